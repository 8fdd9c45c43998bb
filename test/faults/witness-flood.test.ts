/**
 * Fault suite, witness flood: a `scitt-node start` process with the witness role (its policy trusts
 * the offline vector log) gets `POST /add-checkpoint` requests naming distinct unknown origins of
 * ~1 MiB each, from 8 loopback addresses (each within its rate limit: only the state bound holds the
 * memory), then a flood of ~100 KB ones from one address (beyond its rate limit: 429 + Retry-After),
 * while registrations go on. The witness answers 404 or 429, never anything else; its resident memory
 * grows by a bounded amount, not by the size of the requests (C2SP tlog-witness: state only for the
 * origins it witnesses); registrations all succeed; the vector log is still cosigned.
 */
import assert from 'node:assert/strict'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { ed25519NoteSigner, entryBytes, entryId, formatAddCheckpointRequest, formatNote, sha256Digest, signCheckpoint, utf8 } from '@scitt/core'
import { nodeSignatures } from '@scitt/node-crypto'
import { makeIssuer, pool, statement } from '../../packages/node/test/helpers.js'
import { loadVector } from '../fixtures.js'
import { call, type Reply } from './process-load.js'
import { ProcessNode, killAll, sleep } from './process-node.js'
import { record, type ScenarioRow } from './report.js'

const notes = loadVector('c2sp-notes')
const issuer = makeIssuer('https://issuer.flood.example')
/** A key no policy names: it signs the flood's checkpoints, so that each request parses. */
const floodSigner = ed25519NoteSigner('flood.example/log', sha256Digest(utf8('flood')), nodeSignatures)
/** config.ts's defaults for limits.addCheckpoint. */
const ADD_CHECKPOINT_DEFAULTS = { rateLimit: { perSecond: 50, burst: 100, maxClients: 10_000 }, maxInFlight: 16, maxInFlightPerClient: 4 }
/** Phase 1: requests of ~1 MiB, spread over 8 source addresses (within the default burst of each). */
const LARGE = { requests: 240, addresses: 8, originBytes: 1_000_000 }
/** Phase 2: requests of ~100 KB from one address, beyond its rate limit: until 100 are refused (at most 2 000, 30 s). */
const SMALL = { maxRequests: 2000, refusals: 100, maxMs: 30_000, originBytes: 100_000 }
/**
 * RSS growth allowed over both phases. Without the state bound every unknown origin stays cached
 * (measured: +1 042 MiB over 240 × ~1 MiB and 2 000 × ~100 KB, all answered 404); with it, only
 * garbage that the next GC collects remains (measured: +26 to +33 MiB).
 */
const RSS_GROWTH_BOUND_KB = 96 * 1024

function floodRequest (tag: string, originBytes: number): Uint8Array {
  const origin = `flood.example/${tag}/${'o'.repeat(originBytes)}`
  const note = formatNote(signCheckpoint({ origin, size: 1, rootHash: new Uint8Array(32), extensions: [] }, floodSigner))
  return utf8(formatAddCheckpointRequest({ oldSize: 0, proof: [], checkpoint: note }))
}

/** Counts statuses, e.g. "404×240 429×180". */
function tally (statuses: Array<number | string>): string {
  const counts = new Map<number | string, number>()
  for (const s of statuses) counts.set(s, (counts.get(s) ?? 0) + 1)
  return [...counts].sort((a, b) => String(a[0]).localeCompare(String(b[0]))).map(([s, n]) => `${s}×${n}`).join(' ')
}

describe('faults: add-checkpoint flood of a witness process', function () {
  this.timeout(120_000)
  let root: string

  before(async () => { root = await mkdtemp(join(tmpdir(), 'scitt-faults-witness-flood-')) })
  after(async () => {
    await killAll()
    await rm(root, { recursive: true, force: true })
  })

  it('unknown large origins leave no state: RSS bounded, 404/429 only, registrations succeed, the known log is cosigned', async () => {
    const row: ScenarioRow = { scenario: 'witness flood: unknown ~1 MiB origins to POST /add-checkpoint', cases: 0, faults: 0, acknowledged: 0, found: 0, result: 'fail' }
    try {
      const node = await ProcessNode.create(root, 'witness', 'flood.example/witness', issuer, {
        // The default limits, spelled out so that the scenario does not depend on what the helpers set.
        patch: (raw) => { raw.limits.addCheckpoint = ADD_CHECKPOINT_DEFAULTS },
        federation: { name: 'floodnet', policy: `log ${notes.log_vkey}\nquorum none\n` },
      })
      const proc = await node.start()
      const add = async (body: Uint8Array | string, localAddress?: string): Promise<Reply> => await call(`${node.url}/add-checkpoint`, {
        method: 'POST', body: typeof body === 'string' ? utf8(body) : body, timeoutMs: 20_000, ...(localAddress === undefined ? {} : { localAddress }),
      })
      // Warm up: the known log cosigned at 4, a few refusals and registrations, then the baseline.
      assert.equal((await add(`old 0\n\n${notes.checkpoint4}`)).status, 200)
      for (let i = 0; i < 8; i++) assert.equal((await add(floodRequest(`warm${i}`, LARGE.originBytes), `127.0.0.${2 + i}`)).status, 404)
      const acked = new Set<string>()
      const register = async (): Promise<number> => {
        const body = statement(issuer)
        const res = await call(`${node.url}/entries`, { method: 'POST', body, headers: { 'content-type': 'application/cose' }, timeoutMs: 10_000 })
        if (res.status === 201 || res.status === 303) acked.add(entryId(entryBytes(body)))
        return res.status
      }
      for (let i = 0; i < 4; i++) await register()
      await sleep(500)
      const beforeKb = proc.rssKb()!
      let peakKb = beforeKb
      const sampler = setInterval(() => { peakKb = Math.max(peakKb, proc.rssKb() ?? 0) }, 50)

      let flooding = true
      const registrations: number[] = []
      const registering = (async () => {
        for (let i = 0; i < 400 && flooding; i++) {
          registrations.push(await register())
          await sleep(50)
        }
      })()
      const started = performance.now()
      let large: number[]
      const small: number[] = []
      try {
        large = await pool(LARGE.addresses, Array.from({ length: LARGE.requests }, (_, i) => async () =>
          (await add(floodRequest(`l${i}`, LARGE.originBytes), `127.0.0.${2 + (i % LARGE.addresses)}`)).status))
        const limited: Reply[] = []
        const smallStarted = performance.now()
        const more = (): boolean => small.length < SMALL.maxRequests && limited.length < SMALL.refusals && performance.now() - smallStarted < SMALL.maxMs
        await Promise.all(Array.from({ length: 8 }, async (_, w) => {
          for (let i = 0; more(); i++) {
            const res = await add(floodRequest(`s${w}.${i}`, SMALL.originBytes))
            if (res.status === 429) limited.push(res)
            small.push(res.status)
          }
        }))
        for (const res of limited) assert.match(String(res.headers['retry-after']), /^[1-9][0-9]*$/, '429 with Retry-After')
      } finally {
        flooding = false
        await registering
      }
      const floodMs = performance.now() - started
      await sleep(1000)
      clearInterval(sampler)
      const afterKb = proc.rssKb()!
      peakKb = Math.max(peakKb, afterKb)

      // The known log is still cosigned (its client waits out the rate limit first).
      await sleep(1000)
      const cosigned = await add(notes.add_checkpoint_body)
      let found = 0
      for (const id of acked) if ((await call(`${node.url}/entries/${id}`)).status === 200) found++

      const growthKb = afterKb - beforeKb
      row.cases = large.length + small.length
      row.faults = large.length + small.length
      row.acknowledged = acked.size
      row.found = found
      row.notes = `${LARGE.requests} × ~1 MiB from ${LARGE.addresses} addresses: ${tally(large)}; ${small.length} × ~100 KB from one: ${tally(small)}; ` +
        `in ${(floodMs / 1000).toFixed(1)} s; RSS ${(beforeKb / 1024).toFixed(0)} → ${(afterKb / 1024).toFixed(0)} MiB (peak ${(peakKb / 1024).toFixed(0)}, bound +${RSS_GROWTH_BOUND_KB / 1024}); ` +
        `registrations ${tally(registrations)}; known log cosigned ${cosigned.status}`
      assert.ok(growthKb < RSS_GROWTH_BOUND_KB, `RSS grew by ${(growthKb / 1024).toFixed(0)} MiB (bound ${RSS_GROWTH_BOUND_KB / 1024} MiB)`)
      assert.deepEqual([...new Set(large)], [404], `~1 MiB unknown origins within the rate limit: ${tally(large)}`)
      assert.ok(small.includes(429) && small.every((s) => s === 404 || s === 429), `one address beyond its rate limit: ${tally(small)}`)
      assert.ok(registrations.length > 0 && registrations.every((s) => s === 201 || s === 303), `registrations during the flood: ${tally(registrations)}`)
      assert.equal(found, acked.size, 'every acknowledged registration is served')
      assert.equal(cosigned.status, 200, 'the known log is cosigned after the flood')
      row.result = 'pass'
    } finally {
      record(row)
    }
  })
})
