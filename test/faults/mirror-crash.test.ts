/**
 * Fault suite, mirror catch-up: a mirror node process that starts from zero against an
 * origin of many entries is SIGKILLed at random moments during its catch-up, many times. After each
 * restart it resumes at least from what it had shown before the kill (nothing it stored is lost), it
 * ends with the whole log, `scitt-node fsck` passes for its own log and the mirror, and the mirror
 * answers with the origin's own receipts for every entry the origin acknowledged.
 */
import assert from 'node:assert/strict'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { equalBytes } from '@scitt/core'
import { policyText } from '../../packages/node/test/federation-helpers.js'
import { makeIssuer } from '../../packages/node/test/helpers.js'
import { Ledger, call, load, presign, servedReceiptKeys } from './process-load.js'
import { ProcessNode, killAll, sleep } from './process-node.js'
import { record, type ScenarioRow } from './report.js'

const issuer = makeIssuer('https://issuer.example')
const ORIGIN = 'mirror-crash-origin.example/log'
const ENTRIES = 12_000
const CYCLES = 6

/** The mirror's size of the origin from GET /federation (undefined while it is not open). */
async function mirrorSize (url: string): Promise<number | undefined> {
  try {
    const status = JSON.parse(new TextDecoder().decode((await call(`${url}/federation`, { timeoutMs: 2000 })).body))
    return (status.mirrors as Array<{ origin: string, size?: number }>).find((m) => m.origin === ORIGIN)?.size
  } catch {
    return undefined
  }
}

describe('faults: SIGKILL of a mirror during catch-up', function () {
  this.timeout(240_000)
  let root: string

  before(async () => { root = await mkdtemp(join(tmpdir(), 'scitt-faults-mirror-')) })
  afterEach(async () => { await killAll() })
  after(async () => { await rm(root, { recursive: true, force: true }) })

  it('resumes after every kill, loses nothing it stored, ends with the whole log; fsck passes; the origin\'s receipts are served', async () => {
    const row: ScenarioRow = { scenario: 'SIGKILL of a mirror during catch-up', cases: 0, faults: 0, acknowledged: 0, found: 0, result: 'fail' }
    try {
      const patch = (raw: Record<string, any>): void => { raw.log.sync = false; raw.log.batchAgeMs = 5; raw.limits.rateLimit = null }
      // The setups are read at each start: the policy is filled in once both nodes have their keys.
      const originSetup = { name: 'mirror-crash', policy: '' }
      const mirrorSetup = { name: 'mirror-crash', policy: '', mirror: [ORIGIN] }
      const origin = await ProcessNode.create(root, 'origin', ORIGIN, issuer, { patch, federation: originSetup })
      const mirror = await ProcessNode.create(root, 'mirror', 'mirror-crash-mirror.example/log', issuer, { patch, federation: mirrorSetup })
      originSetup.policy = mirrorSetup.policy = policyText([origin.keys, mirror.keys], [mirror.keys], 1)
      await origin.start()
      const ledger = new Ledger(await servedReceiptKeys(origin.url))
      await load({ url: origin.url, ledger, statements: presign(issuer, ENTRIES), concurrency: 32, stop: () => false })
      await ledger.poll(origin.url)
      row.acknowledged = ledger.acked.size
      assert.equal(row.acknowledged, ENTRIES, 'the origin acknowledged every statement')

      let shown = 0
      const resumedFrom: number[] = []
      for (let cycle = 0; cycle < CYCLES; cycle++) {
        await mirror.start({ bootstrap: [origin] })
        row.cases++
        // Each restart resumes from at least what the mirror showed before the last kill.
        const deadline = Date.now() + 30_000
        let size: number | undefined
        while ((size = await mirrorSize(mirror.url)) === undefined && Date.now() < deadline) await sleep(20)
        assert.ok(size !== undefined && size >= shown, `after restart ${cycle} the mirror is at ${size}, it had shown ${shown}`)
        resumedFrom.push(size)
        // Kill at a random moment of the catch-up (or right away when it is already done).
        const killAt = Date.now() + 50 + Math.random() * 600
        while (Date.now() < killAt) {
          shown = Math.max(shown, (await mirrorSize(mirror.url)) ?? 0)
          await sleep(10)
        }
        await mirror.kill()
        row.faults++
        const fsck = await mirror.fsck()
        assert.equal(fsck.code, 0, `fsck after kill ${cycle}: ${fsck.stdout}${fsck.stderr}`)
      }
      await mirror.start({ bootstrap: [origin] })
      const deadline = Date.now() + 60_000
      while ((await mirrorSize(mirror.url)) !== ENTRIES && Date.now() < deadline) await sleep(100)
      assert.equal(await mirrorSize(mirror.url), ENTRIES, 'the mirror ends with the whole log')
      // Every acknowledged entry is served by the mirror with the origin's own receipt.
      for (const [id, ack] of ledger.acked) {
        const res = await call(`${mirror.url}/entries/${id}`)
        assert.equal(res.status, 200, `entry ${id} at the mirror`)
        if (equalBytes(res.body, ack.receipt)) row.found++
      }
      await mirror.stop()
      const fsck = await mirror.fsck()
      assert.equal(fsck.code, 0, `fsck at the end: ${fsck.stdout}`)
      assert.match(fsck.stdout, new RegExp(`ok: mirror of ${ORIGIN.replace(/\./g, '\\.')}: size ${ENTRIES}`))
      row.notes = `${ENTRIES} entries; restarts resumed at ${resumedFrom.join(', ')}; fsck ok after each kill; every receipt byte-identical to the origin's`
      row.result = 'pass'
    } finally {
      record(row)
    }
  })
})
