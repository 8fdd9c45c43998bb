/**
 * Issue #9, crashes: `scitt-node start` processes SIGKILLed at random moments, many times on one
 * directory, (a) under concurrent registration load, (b) while entries are sequenced but not yet
 * integrated (long batches, receipts fetched after 303), (c) while a registry and its witness cosign
 * (either or both killed). After every kill: `scitt-node fsck` passes; after every restart: every
 * acknowledged entry is served with a receipt that verifies against the node's served key, at the
 * index first acknowledged; over the whole run no two signed checkpoints of one origin (GET
 * /checkpoint, GET /federation heads, the witness's stored state, receipt roots) disagree.
 */
import assert from 'node:assert/strict'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseCheckpoint, parseNote, parsePolicy, policySatisfied, type Policy } from '@scitt/core'
import { nodeSignatures } from '@scitt/node-crypto'
import { policyText, until } from '../../packages/node/test/federation-helpers.js'
import { makeIssuer } from '../../packages/node/test/helpers.js'
import { CheckpointBook } from './process-checkpoints.js'
import { Ledger, call, load, presign, servedReceiptKeys, type ServedCheck } from './process-load.js'
import { ProcessNode, killAll, sleep } from './process-node.js'
import { record, type ScenarioRow } from './report.js'

const issuer = makeIssuer('https://issuer.crash.example')

/** A random whole number of ms in [min, max). */
function randomMs (min: number, max: number): number {
  return min + Math.floor(Math.random() * (max - min))
}

/** Samples GET /checkpoint of `node` into the book every 40 ms until `done()`. */
async function sampleCheckpoints (book: CheckpointBook, node: ProcessNode, done: () => boolean): Promise<void> {
  while (!done()) {
    await book.fromCheckpoint(node.url, `${node.name} /checkpoint`)
    await sleep(40)
  }
}

async function assertFsck (node: ProcessNode): Promise<void> {
  const run = await node.fsck()
  assert.equal(run.code, 0, `fsck of ${node.name}: ${run.stdout}${run.stderr}`)
  assert.match(run.stdout, /^ok: /)
}

function assertNoConflicts (book: CheckpointBook): void {
  assert.deepEqual(book.conflicts, [], 'two signed checkpoints of one origin disagree')
}

/**
 * Kill cycles on one registry process: restart, check every acknowledged entry, run load (and a
 * poller for 303 answers) and SIGKILL at a random moment, fsck. Then a last restart, check and a
 * clean stop.
 */
async function crashCycles (o: {
  row: ScenarioRow
  node: ProcessNode
  cycles: number
  concurrency: number
  killAfter: [number, number]
  statements: number
}): Promise<{ ledger: Ledger, book: CheckpointBook, served: ServedCheck }> {
  const { node, row } = o
  await node.start()
  const origin = node.keys.origin
  const ledger = new Ledger(await servedReceiptKeys(node.url))
  const book = new CheckpointBook([node.keys.logVerifier])
  const statements = presign(issuer, o.statements)
  const onRoot = (size: number, root: Uint8Array): void => { book.addRoot(origin, size, root, 'receipt') }
  for (let cycle = 0; cycle < o.cycles; cycle++) {
    if (cycle > 0) {
      await node.start()
      // Entries answered 303 before the kill: acknowledged once served, lost (never acknowledged) if 404.
      await ledger.poll(node.url)
      await ledger.verifyServed(node.url, onRoot)
    }
    await book.fromCheckpoint(node.url, `${node.name} /checkpoint after restart`)
    let killed = false
    const traffic = load({ url: node.url, ledger, statements, concurrency: o.concurrency, stop: () => killed, endOnError: true })
    const poller = (async () => { while (!killed) { await ledger.poll(node.url); await sleep(30) } })()
    const sampler = sampleCheckpoints(book, node, () => killed)
    await sleep(randomMs(...o.killAfter))
    await node.kill()
    killed = true
    row.faults++
    await Promise.all([traffic, poller, sampler])
    await assertFsck(node)
    row.cases++
    assertNoConflicts(book)
    assert.ok(statements.length > 0, 'ran out of pre-signed statements')
  }
  await node.start()
  await ledger.poll(node.url)
  assert.equal(ledger.pending.size, 0, 'every entry answered 303 is either served or gone after the restart')
  const served = await ledger.verifyServed(node.url, onRoot)
  await book.fromCheckpoint(node.url, `${node.name} /checkpoint at the end`)
  const exit = await node.stop()
  assert.deepEqual(exit, { code: 0, signal: null }, 'a clean stop after the crashes')
  await assertFsck(node)
  assertNoConflicts(book)
  return { ledger, book, served }
}

/** The size of a node's GET /checkpoint and whether its cosignatures meet the policy's quorum. */
async function cosigned (url: string, policy: Policy): Promise<{ size: number, quorum: boolean }> {
  const note = parseNote(new TextDecoder().decode((await call(`${url}/checkpoint`)).body))
  return { size: parseCheckpoint(note.text).size, quorum: policySatisfied(policy, note).ok }
}

function statusSummary (ledger: Ledger): string {
  return [...ledger.statuses].sort().map(([k, v]) => `${k}×${v}`).join(' ')
}

describe('faults: SIGKILL of scitt-node processes', function () {
  this.timeout(150_000)
  let root: string

  before(async () => { root = await mkdtemp(join(tmpdir(), 'scitt-faults-crash-')) })
  afterEach(async () => { await killAll() })
  after(async () => { await rm(root, { recursive: true, force: true }) })

  it('(a) during registration load: every acknowledged entry survives every kill; fsck passes; one root per size', async () => {
    const row: ScenarioRow = { scenario: 'SIGKILL during registration load', cases: 0, faults: 0, acknowledged: 0, found: 0, result: 'fail' }
    try {
      const node = await ProcessNode.create(root, 'load', 'crash-load.example/log', issuer, {
        patch: (raw) => { raw.log.sync = true; raw.log.batchAgeMs = 20; raw.limits.verifyWorkers = 1 },
      })
      const { ledger, book, served } = await crashCycles({ row, node, cycles: 8, concurrency: 8, killAfter: [50, 700], statements: 12_000 })
      row.acknowledged = ledger.acked.size
      row.found = served.checked
      assert.ok(row.acknowledged >= 100, `only ${row.acknowledged} acknowledged: the load did not run`)
      assert.equal(served.sameBytes, served.checked, 'receipts are served byte for byte as acknowledged')
      row.notes = `statuses ${statusSummary(ledger)}; ${book.seen} signed roots checked, none disagree; fsck ok after each kill`
      row.result = 'pass'
    } finally {
      record(row)
    }
  })

  it('(b) during integration (long batches): acknowledged entries survive; sequenced-only ones may go; fsck passes', async () => {
    const row: ScenarioRow = { scenario: 'SIGKILL between sequencing and integration', cases: 0, faults: 0, acknowledged: 0, found: 0, result: 'fail' }
    try {
      const node = await ProcessNode.create(root, 'batch', 'crash-batch.example/log', issuer, {
        patch: (raw) => {
          raw.log.sync = true
          raw.log.batchAgeMs = 300
          raw.log.batchSize = 65536
          raw.limits.verifyWorkers = 1
          raw.limits.registrationWaitMs = 30
        },
      })
      const { ledger, book, served } = await crashCycles({ row, node, cycles: 8, concurrency: 8, killAfter: [100, 900], statements: 20_000 })
      row.acknowledged = ledger.acked.size
      row.found = served.checked
      assert.ok(row.acknowledged >= 100, `only ${row.acknowledged} acknowledged: the load did not run`)
      assert.ok((ledger.statuses.get('303') ?? 0) > 0, 'registrations were answered 303 (sequenced, receipt later)')
      assert.ok(ledger.lost > 0, 'some kills fell between sequencing and integration')
      assert.equal(served.sameBytes, served.checked, 'receipts are served byte for byte as acknowledged')
      row.notes = `statuses ${statusSummary(ledger)}; ${ledger.lost} answered 303 and lost unacknowledged in a kill; ${book.seen} signed roots checked, none disagree`
      row.result = 'pass'
    } finally {
      record(row)
    }
  })

  it('(c) during witnessing (registry + witness, quorum 1): kills of either or both; no false evidence; the quorum comes back', async () => {
    const row: ScenarioRow = { scenario: 'SIGKILL of registry/witness while cosigning', cases: 0, faults: 0, acknowledged: 0, found: 0, result: 'fail' }
    try {
      const federation = { name: 'crashnet', policy: '' }
      const registry = await ProcessNode.create(root, 'registry', 'crash-registry.example/log', issuer, {
        patch: (raw) => { raw.log.sync = true; raw.log.batchAgeMs = 20; raw.limits.verifyWorkers = 1 },
        federation,
      })
      const witness = await ProcessNode.create(root, 'witness', 'crash-witness.example/log', issuer, {
        patch: (raw) => { raw.log.sync = true; raw.limits.verifyWorkers = 1 },
        federation,
      })
      federation.policy = policyText([registry.keys, witness.keys], [witness.keys], 1)
      const policy = parsePolicy(federation.policy, nodeSignatures)
      const both = [registry, witness]
      await Promise.all(both.map(async (n) => await n.start({ bootstrap: both })))
      const origin = registry.keys.origin
      const ledger = new Ledger(await servedReceiptKeys(registry.url))
      const book = new CheckpointBook([registry.keys.logVerifier, witness.keys.logVerifier])
      const onRoot = (size: number, root: Uint8Array): void => { book.addRoot(origin, size, root, 'receipt') }
      const statements = presign(issuer, 10_000)
      const observe = async (): Promise<void> => {
        for (const n of both) {
          if (n.process === undefined) continue
          await book.fromCheckpoint(n.url, `${n.name} /checkpoint`)
          await book.fromFederation(n.url, n.name)
        }
      }
      // The registry has a cosigned checkpoint before the kills begin (the witness's own log stays
      // empty: fsck checks an empty log too).
      await ledger.register(registry.url, statements.shift()!)
      await until(async () => (await cosigned(registry.url, policy)).quorum, 20_000, 'the first cosigned checkpoint')
      const kills = { registry: 0, witness: 0 }
      for (let cycle = 0; cycle < 8; cycle++) {
        const victims = [[registry], [witness], [registry, witness]][cycle % 3 === 2 ? 2 : Math.floor(Math.random() * 2)]!
        let killed = false
        const traffic = load({ url: registry.url, ledger, statements, concurrency: 4, stop: () => killed, endOnError: true })
        const watcher = (async () => { while (!killed) { await observe(); await sleep(40) } })()
        await sleep(randomMs(100, 900))
        await Promise.all(victims.map(async (n) => await n.kill()))
        killed = true
        row.faults += victims.length
        for (const n of victims) kills[n.name as 'registry' | 'witness']++
        await Promise.all([traffic, watcher])
        await observe()
        for (const n of victims) {
          await assertFsck(n)
          if (n === witness) await book.fromWitnessState(join(witness.dir, 'data'), 'witness')
        }
        await Promise.all(victims.map(async (n) => await n.start({ bootstrap: both })))
        await ledger.poll(registry.url)
        await ledger.verifyServed(registry.url, onRoot)
        await observe()
        assertNoConflicts(book)
        row.cases++
      }
      // After the chaos: the registry's latest checkpoint gets cosigned, the witness sees it, nobody holds evidence.
      await ledger.register(registry.url, statements.shift()!)
      await until(async () => {
        const { size, quorum } = await cosigned(registry.url, policy)
        return quorum && (await book.fromFederation(witness.url, 'witness'))?.get(origin) === size
      }, 20_000, 'the latest checkpoint cosigned and seen by the witness')
      await observe()
      for (const n of both) {
        const evidence = await call(`${n.url}/evidence`)
        assert.equal(evidence.status, 200)
        assert.deepEqual(JSON.parse(new TextDecoder().decode(evidence.body)), [], `${n.name} recorded evidence after crashes`)
      }
      await ledger.poll(registry.url)
      const served = await ledger.verifyServed(registry.url, onRoot)
      for (const n of both) assert.deepEqual(await n.stop(), { code: 0, signal: null }, `${n.name} stops cleanly`)
      for (const n of both) await assertFsck(n)
      await book.fromWitnessState(join(witness.dir, 'data'), 'witness')
      assertNoConflicts(book)
      row.acknowledged = ledger.acked.size
      row.found = served.checked
      assert.ok(row.acknowledged >= 50, `only ${row.acknowledged} acknowledged`)
      const refusedCosign = registry.output().split('\n').filter((l) => l.includes('"msg":"witness did not cosign"')).length
      row.notes = `kills: registry ${kills.registry}, witness ${kills.witness}; ${refusedCosign} cosign requests failed (witness down); statuses ${statusSummary(ledger)}; ${book.seen} signed roots checked, none disagree; no evidence; quorum regained`
      row.result = 'pass'
    } finally {
      record(row)
    }
  })
})
