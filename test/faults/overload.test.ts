/**
 * Issue #9, overload: a `scitt-node start` process with its per-address rate limit on and small queues
 * (verifyQueue, maxPending) is hammered by many concurrent clients from many loopback addresses, far
 * beyond what it can register. It answers 429 or 503 with Retry-After (never anything else), the
 * latency of accepted registrations stays bounded (p99), its resident memory stays bounded (VmRSS
 * sampled), it accepts again at low load once the load drops, and every acknowledged entry is served.
 */
import assert from 'node:assert/strict'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { makeIssuer } from '../../packages/node/test/helpers.js'
import { Ledger, load, percentile, presign, servedReceiptKeys } from './process-load.js'
import { ProcessNode, killAll, sleep } from './process-node.js'
import { record, type ScenarioRow } from './report.js'

const issuer = makeIssuer('https://issuer.overload.example')
/** Clients hammering from a few addresses (the rate limit answers them 429)… */
const GREEDY = { addresses: 4, clients: 32 }
/** …and one client per address from many addresses, each below the rate limit, together beyond capacity (503). */
const CROWD = 64
const LOAD_MS = 6000
const REGISTRATION_WAIT_MS = 500
/** Accepted registrations wait at most registrationWaitMs for integration, plus queueing for a verify worker. */
const P99_BOUND_MS = 1500
const RSS_BOUND_KB = 400 * 1024

describe('faults: registration overload of a scitt-node process', function () {
  this.timeout(120_000)
  let root: string

  before(async () => { root = await mkdtemp(join(tmpdir(), 'scitt-faults-overload-')) })
  after(async () => {
    await killAll()
    await rm(root, { recursive: true, force: true })
  })

  it('sheds load with 429/503 + Retry-After, keeps latency and memory bounded, recovers, loses nothing acknowledged', async () => {
    const row: ScenarioRow = { scenario: 'registration overload (rate limit, small queues)', cases: 0, faults: 0, acknowledged: 0, found: 0, result: 'fail' }
    try {
      const node = await ProcessNode.create(root, 'overload', 'overload.example/log', issuer, {
        patch: (raw) => {
          raw.log.sync = true
          raw.log.batchAgeMs = 20
          raw.log.maxPending = 64
          raw.limits.verifyWorkers = 1
          raw.limits.verifyQueue = 8
          raw.limits.registrationWaitMs = REGISTRATION_WAIT_MS
          raw.limits.retryAfterSeconds = 1
          raw.limits.rateLimit = { perSecond: 10, burst: 10, maxClients: 10_000 }
        },
      })
      const proc = await node.start()
      const ledger = new Ledger(await servedReceiptKeys(node.url))
      const baselineKb = proc.rssKb()!

      const clients = GREEDY.clients + CROWD
      const statements = presign(issuer, 40_000) // more than the clients can send in LOAD_MS (they sent ~2 000/s)
      // RSS is sampled from the start of the load (signing the statements above takes seconds), so that
      // its first half is load too, not the idle process.
      const started = Date.now()
      const rss: Array<[number, number]> = []
      let stopped = false
      const sampler = (async () => {
        // Bounded in time too: a failed assertion below must not leave it running (mocha would not exit).
        while (!stopped && Date.now() - started < LOAD_MS + 60_000) {
          const kb = proc.rssKb()
          if (kb !== undefined) rss.push([Date.now() - started, kb])
          await sleep(100)
        }
      })()
      await load({
        url: node.url,
        ledger,
        statements,
        concurrency: clients,
        stop: () => Date.now() - started > LOAD_MS,
        localAddress: (i) => (i < GREEDY.clients ? `127.0.0.${2 + (i % GREEDY.addresses)}` : `127.0.1.${1 + i - GREEDY.clients}`),
        timeoutMs: 15_000,
      })
      const elapsed = Date.now() - started
      assert.ok(statements.length > 0, 'the clients ran out of statements before the end of the load')
      stopped = true
      await sampler
      const sent = [...ledger.statuses.values()].reduce((a, b) => a + b, 0)
      row.cases = sent
      row.faults = clients
      const count = (s: string): number => ledger.statuses.get(s) ?? 0
      assert.equal(sent, count('201') + count('303') + count('429') + count('503'), `every request was answered: ${JSON.stringify([...ledger.statuses])}`)
      assert.equal(ledger.withoutRetryAfter, 0, '429 and 503 carry Retry-After')
      assert.ok(count('429') > 0, 'the rate limit answered 429')
      assert.ok(count('503') > 0, 'the full queues answered 503')
      const shed = (count('429') + count('503')) / sent
      assert.ok(shed > 0.25, `the load was beyond capacity: ${(shed * 100).toFixed(0)}% refused`)
      const p99 = percentile(ledger.createdMs, 99)
      assert.ok(ledger.createdMs.length > 0, 'some registrations were accepted under load')
      assert.ok(p99 < P99_BOUND_MS, `p99 latency of accepted registrations ${p99.toFixed(0)} ms`)
      const peakKb = Math.max(...rss.map(([, kb]) => kb))
      const half = LOAD_MS / 2
      const firstHalf = Math.max(...rss.filter(([t]) => t < half).map(([, kb]) => kb))
      const secondHalf = Math.max(...rss.filter(([t]) => t >= half).map(([, kb]) => kb))
      assert.ok(peakKb < RSS_BOUND_KB, `RSS peaked at ${peakKb} kB`)
      assert.ok(secondHalf < firstHalf + 64 * 1024, `RSS kept growing: ${firstHalf} kB then ${secondHalf} kB`)

      // Recovery at low load: after Retry-After, one client registers one statement at a time, all accepted.
      await sleep(1100)
      const calm = presign(issuer, 10)
      for (const [i, body] of calm.entries()) {
        const res = await ledger.register(node.url, body, { localAddress: i % 2 === 0 ? '127.0.0.200' : '127.0.0.2' })
        assert.ok(res?.status === 201 || res?.status === 303, `low load after the overload answered ${res?.status}`)
        await sleep(60)
      }
      for (let i = 0; i < 50 && ledger.pending.size > 0; i++) {
        await ledger.poll(node.url)
        if (ledger.pending.size > 0) await sleep(100)
      }
      assert.equal(ledger.pending.size, 0, 'every 303 got its receipt')
      const served = await ledger.verifyServed(node.url)
      assert.deepEqual(await node.stop(), { code: 0, signal: null })
      const fsck = await node.fsck()
      assert.equal(fsck.code, 0, fsck.stdout + fsck.stderr)
      row.acknowledged = ledger.acked.size
      row.found = served.checked
      const rate = (n: number): string => `${((n * 1000) / elapsed).toFixed(0)}/s`
      row.notes = `${clients} clients on ${GREEDY.addresses + CROWD} addresses for ${(elapsed / 1000).toFixed(1)} s: ${rate(sent)} sent, ${(shed * 100).toFixed(0)}% refused: 201×${count('201')} 303×${count('303')} 429×${count('429')} 503×${count('503')}; ` +
        `accepted p50 ${percentile(ledger.createdMs, 50).toFixed(0)} ms p99 ${p99.toFixed(0)} ms; refused p99 ${percentile(ledger.refusedMs, 99).toFixed(0)} ms; ` +
        `RSS ${(baselineKb / 1024).toFixed(0)} MB idle, peak ${(firstHalf / 1024).toFixed(0)} MB in the first half of the load and ${(secondHalf / 1024).toFixed(0)} MB in the second; recovered: 10/10 accepted at low load`
      row.result = 'pass'
    } finally {
      record(row)
    }
  })
})
