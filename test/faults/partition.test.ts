/**
 * Issue #9, partitions: a federation of `scitt-node start` processes (three registries and a witness,
 * the topology of federation-helpers: every node cosigns, policy quorum 2 of firmware, containers and
 * witness) is split in two by stopping every process and restarting each side with only its own side
 * to dial (peer stores live in memory, so no node can reach across); both sides keep registering.
 * During the split the IoT registry is forked: a copy of its directory (same keys and data, a new peer
 * key) runs on the other side and registers different statements. Healing restarts the smaller side
 * with every node to dial. Then, within a bounded time, every honest node's GET /federation shows each
 * honest origin at the size of the origin's own GET /checkpoint, and every honest node's GET /evidence
 * holds the same evidence against the forked origin (two validly signed roots for one size); every
 * acknowledged entry is still served and no honest origin ever signed two roots for one size.
 */
import assert from 'node:assert/strict'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { sha256Digest, utf8 } from '@scitt/core'
import { policyText, until } from '../../packages/node/test/federation-helpers.js'
import { makeIssuer } from '../../packages/node/test/helpers.js'
import { CheckpointBook } from './process-checkpoints.js'
import { Ledger, call, presign, servedReceiptKeys } from './process-load.js'
import { ProcessNode, killAll } from './process-node.js'
import { record, type ScenarioRow } from './report.js'

const issuer = makeIssuer('https://issuer.partition.example')
const CONVERGE_MS = 30_000

async function json<T> (url: string): Promise<T> {
  const res = await call(url, { timeoutMs: 5000 })
  assert.equal(res.status, 200, `GET ${url}: ${res.status}`)
  return JSON.parse(new TextDecoder().decode(res.body)) as T
}

interface Status { peerId: string, announced: Array<{ origin: string, peer: string }>, origins: Array<{ origin: string, size: number, note: string }> }
interface EvidenceJson { id: string, kind: string, origin: string, notes: string[] }

/** Registers `n` statements at a node; every one must be acknowledged with 201. */
async function registerAll (ledger: Ledger, node: ProcessNode, n: number): Promise<void> {
  for (const body of presign(issuer, n)) {
    const res = await ledger.register(node.url, body)
    assert.equal(res?.status, 201, `${node.name} answered ${res?.status}`)
  }
}

describe('faults: a partitioned federation of scitt-node processes', function () {
  this.timeout(180_000)
  let root: string

  before(async () => { root = await mkdtemp(join(tmpdir(), 'scitt-faults-partition-')) })
  after(async () => {
    await killAll()
    await rm(root, { recursive: true, force: true })
  })

  it('both sides serve registrations; after healing every node converges and every honest node holds the fork evidence', async () => {
    const row: ScenarioRow = { scenario: 'partition of a 4-process federation + forked registry', cases: 0, faults: 0, acknowledged: 0, found: 0, result: 'fail' }
    try {
      const federation = { name: 'partnet', policy: '' }
      const create = async (name: string): Promise<ProcessNode> => await ProcessNode.create(root, name, `${name}.partition.example/log`, issuer, {
        patch: (raw) => { raw.log.batchAgeMs = 10 },
        federation,
      })
      const [iot, firmware, containers, witness] = await Promise.all(['iot', 'firmware', 'containers', 'witness'].map(create)) as [ProcessNode, ProcessNode, ProcessNode, ProcessNode]
      federation.policy = policyText([iot, firmware, containers, witness].map((n) => n.keys), [firmware, containers, witness].map((n) => n.keys), 2)
      const honest = [firmware, containers, witness]
      const book = new CheckpointBook(honest.map((n) => n.keys.logVerifier))

      /** Starts `nodes`, each dialling `dial`, and waits until each has the descriptor of every other node of `dial`. */
      const startSide = async (nodes: ProcessNode[], dial: ProcessNode[]): Promise<void> => {
        await Promise.all(nodes.map(async (n) => await n.start({ bootstrap: dial })))
        await until(async () => {
          for (const n of nodes) {
            const { announced } = await json<Status>(`${n.url}/federation`)
            if (!dial.every((d) => d === n || announced.some((a) => a.peer === d.peerId))) return false
          }
          return true
        }, CONVERGE_MS, 'descriptors of every node on the side')
      }

      /** Every honest node's GET /federation shows each other honest origin at the size of its GET /checkpoint. */
      const converged = async (nodes: ProcessNode[]): Promise<boolean> => {
        const sizes = new Map<string, number>()
        for (const n of nodes) sizes.set(n.keys.origin, (await book.fromCheckpoint(n.url, `${n.name} /checkpoint`))!.size)
        for (const n of nodes) {
          const heads = (await book.fromFederation(n.url, n.name))!
          for (const other of nodes) if (other !== n && heads.get(other.keys.origin) !== sizes.get(other.keys.origin)) return false
        }
        return true
      }

      // Whole federation up; some registrations everywhere; converged.
      const all = [iot, firmware, containers, witness]
      await startSide(all, all)
      const ledgers = new Map<ProcessNode, Ledger>()
      for (const n of all) ledgers.set(n, new Ledger(await servedReceiptKeys(n.url)))
      for (const n of all) await registerAll(ledgers.get(n)!, n, 3)
      await until(async () => await converged(honest), CONVERGE_MS, 'convergence before the split')

      // The split: every process stops; side A (witness, firmware, iot) and side B (containers and a
      // fork of iot) restart each dialling only their own side.
      for (const n of all) assert.deepEqual(await n.stop(), { code: 0, signal: null }, `${n.name} stops cleanly`)
      const iotFork = await iot.fork(root, 'iot-fork', sha256Digest(utf8('fork peer')))
      const sideA = [witness, firmware, iot]
      const sideB = [containers, iotFork]
      await Promise.all([startSide(sideA, sideA), startSide(sideB, sideB)])
      // The fork holds (and must keep serving) what iot acknowledged before the fork.
      const forkLedger = new Ledger(await servedReceiptKeys(iotFork.url))
      for (const [id, ack] of ledgers.get(iot)!.acked) forkLedger.acked.set(id, ack)
      ledgers.set(iotFork, forkLedger)
      row.faults += 2 // one partition, one forked registry

      // Both sides serve registrations; the fork's two halves sign different roots for the same sizes.
      for (const n of [...sideA, ...sideB]) await registerAll(ledgers.get(n)!, n, 4)
      const forkSizes = await Promise.all([iot, iotFork].map(async (n) => (await json<{ origins: Array<{ origin: string, size: number }> }>(`${n.url}/federation`)).origins.find((o) => o.origin === iot.keys.origin)?.size))
      assert.equal(forkSizes[0], forkSizes[1], 'both halves of the fork reached the same size')
      // The split is real: side A never learns containers' new head, nor side B the witness's.
      const containersSize = (await book.fromCheckpoint(containers.url, 'containers /checkpoint'))!.size
      const witnessSize = (await book.fromCheckpoint(witness.url, 'witness /checkpoint'))!.size
      assert.ok(((await book.fromFederation(witness.url, 'witness'))!.get(containers.keys.origin) ?? 0) < containersSize, 'side A does not see side B')
      assert.ok(((await book.fromFederation(containers.url, 'containers'))!.get(witness.keys.origin) ?? 0) < witnessSize, 'side B does not see side A')
      for (const n of honest) assert.deepEqual(await json<EvidenceJson[]>(`${n.url}/evidence`), [], `${n.name} holds no evidence during the split`)

      // Healing: side B restarts dialling everyone.
      for (const n of sideB) assert.deepEqual(await n.stop(), { code: 0, signal: null })
      const healed = Date.now()
      await Promise.all(sideB.map(async (n) => await n.start({ bootstrap: all.concat(iotFork) })))
      await until(async () => await converged(honest), CONVERGE_MS, 'convergence after healing')
      const convergeMs = Date.now() - healed
      await until(async () => {
        for (const n of honest) if ((await json<EvidenceJson[]>(`${n.url}/evidence`)).length === 0) return false
        return true
      }, CONVERGE_MS, 'evidence against the fork on every honest node')
      const evidenceMs = Date.now() - healed
      const evidence = await Promise.all(honest.map(async (n) => await json<EvidenceJson[]>(`${n.url}/evidence`)))
      for (const [i, list] of evidence.entries()) {
        assert.deepEqual(list.map((e) => e.origin), [iot.keys.origin], `${honest[i]!.name}: evidence only against the forked origin`)
      }
      assert.equal(new Set(evidence.map((list) => list[0]!.id)).size, 1, 'the same evidence everywhere')
      // It stands on its own: two notes signed by the forked origin's log key, one size, two roots.
      const forkBook = new CheckpointBook([iot.keys.logVerifier])
      for (const note of evidence[0]![0]!.notes) forkBook.addNote(note, 'evidence')
      assert.equal(evidence[0]![0]!.kind, 'same-size')
      assert.equal(forkBook.conflicts.length, 1, 'the evidence shows two roots for one size')
      row.cases = honest.length * 2 // convergence and evidence checked on each honest node

      // Everything acknowledged on either side is still served (counted per node: iot's entries from before the fork on both halves).
      for (const [n, ledger] of ledgers) {
        const { checked } = await ledger.verifyServed(n.url)
        row.acknowledged += ledger.acked.size
        row.found += checked
      }
      assert.deepEqual(book.conflicts, [], 'an honest origin signed two roots for one size')
      for (const n of [...all, iotFork]) assert.deepEqual(await n.stop(), { code: 0, signal: null }, `${n.name} stops cleanly`)
      row.notes = `3 registries + 1 witness, split 3|2 with a forked registry (acked counted per node); converged ${(convergeMs / 1000).toFixed(1)} s and evidence on all 3 honest nodes ${(evidenceMs / 1000).toFixed(1)} s after healing; ${book.seen} honest signed roots checked, none disagree`
      row.result = 'pass'
    } finally {
      record(row)
    }
  })
})
