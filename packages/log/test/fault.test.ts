/**
 * Fault injection: a database wrapper makes chosen writes fail, either lost or landed-but-reported-
 * failed, at each write of an integration (the tree batch, then the checkpoint), and the process
 * either sees the failure and continues, or dies at that write and restarts on the same database.
 * After each step the whole-log checker re-derives the log and checks the invariants.
 */
import assert from 'node:assert/strict'
import { isScittError, leafHash, parseCheckpoint, toHex } from '@scitt/core'
import { Log, type LogDatabase } from '@scitt/log'
import {
  FaultyDatabase, SignatureRecord, checkLog, entryOf, logOptions, memoryBackend, type Acknowledged, type Fault,
} from './harness.js'

const backend = memoryBackend()

describe('Log under injected write faults', function () {
  let inner: LogDatabase
  let faulty: FaultyDatabase
  let record: SignatureRecord

  beforeEach(async () => {
    inner = await backend.create()
    faulty = new FaultyDatabase(inner)
    record = new SignatureRecord()
  })

  /** A new process on the same database. */
  function restart (): FaultyDatabase {
    faulty.crash()
    faulty = new FaultyDatabase(inner)
    return faulty
  }

  async function seeded (n: number): Promise<{ log: Log, acknowledged: Acknowledged[] }> {
    const log = await Log.open(logOptions(faulty.db, record, { batchSize: 1000 }))
    const entries = Array.from({ length: n }, (_, i) => entryOf(`seed ${i}`))
    const results = await Promise.all(entries.map((e) => log.add(e)))
    return { log, acknowledged: results.map((r, i) => ({ index: r.index, entry: entries[i]! })) }
  }

  // The two writes of an integration: 0 = the tree batch, 1 = the checkpoint.
  for (const [write, name] of [[0, 'tree batch'], [1, 'checkpoint']] as const) {
    for (const fault of ['lost', 'landed'] as Fault[]) {
      for (const crash of [false, true]) {
        const what = fault === 'lost' ? 'is lost' : 'lands'
        it(`${name} write ${what}, then ${crash ? 'the process dies there and restarts' : 'the failure is reported and the log continues'}`, async () => {
          const { log, acknowledged } = await seeded(5)
          faulty.inject(fault, write, crash)
          const failed = [entryOf('f1'), entryOf('f2'), entryOf('f3')]
          const adds = failed.map((e) => log.add(e))
          let current = log
          if (crash) {
            await faulty.died
            restart()
            current = await Log.open(logOptions(faulty.db, record, { batchSize: 1000 }))
            const stored = fault === 'landed' || write === 1 ? 8 : 5
            assert.equal(current.latestCheckpoint()!.size, stored, 'the restart resumes from the stored tree')
          } else {
            for (const o of await Promise.allSettled(adds)) {
              assert.equal(o.status, 'rejected')
              assert.ok(isScittError(o.reason, 'INTERNAL'), 'an integration whose write failed acknowledges nothing')
            }
            assert.equal(log.latestCheckpoint()!.size, 5, 'nothing is published after a failed write')
          }
          // The entries may or may not have landed; adding them again settles that without forking.
          const retried = await Promise.all(failed.map((e) => current.add(e)))
          retried.forEach((r, i) => acknowledged.push({ index: r.index, entry: failed[i]! }))
          assert.deepEqual(retried.map((r) => r.index).sort(), [5, 6, 7])
          const next = entryOf('after')
          acknowledged.push({ index: (await current.add(next)).index, entry: next })
          await checkLog(current, acknowledged, record, [5, 8, 9])
          if (write === 1) {
            // The tree of size 8 was stored before its checkpoint failed: size 8 is signed again with the
            // same root, and the re-signed note is byte-identical (Ed25519 is deterministic).
            const eights = record.texts.filter((t) => parseCheckpoint(t).size === 8)
            assert.equal(eights.length, fault === 'lost' ? 2 : 1)
            assert.equal(new Set(eights).size, 1)
          }
        })
      }
    }
  }

  // Under load a checkpoint rides in the next integration's write (group commit): that one write holds
  // the next tree state and the previous checkpoint.
  for (const fault of ['lost', 'landed'] as Fault[]) {
    for (const crash of [false, true]) {
      it(`group commit: the write of the next tree and the previous checkpoint ${fault === 'lost' ? 'is lost' : 'lands'}, then ${crash ? 'the process dies' : 'the log continues'}`, async () => {
        const log = await Log.open(logOptions(faulty.db, record, { batchSize: 4 }))
        faulty.inject(fault, 1, crash) // write 0: tree of size 4; write 1: tree of size 8 + checkpoint 4
        const entries = Array.from({ length: 12 }, (_, i) => entryOf(`group ${i}`))
        const adds = entries.map((e) => log.add(e))
        let current = log
        if (crash) {
          await faulty.died
          restart()
          current = await Log.open(logOptions(faulty.db, record, { batchSize: 4 }))
          assert.equal(current.latestCheckpoint()!.size, fault === 'lost' ? 4 : 8, 'the stored tree is signed at restart')
        } else {
          const outcomes = await Promise.allSettled(adds)
          assert.deepEqual(outcomes.slice(0, 8).map((o) => o.status), Array(8).fill('rejected'), 'neither batch of the failed write is acknowledged')
        }
        const results = await Promise.all(entries.map((e) => current.add(e)))
        assert.deepEqual(results.map((r) => r.index).sort((a, b) => a - b), [...Array(12).keys()])
        await checkLog(current, results.map((r, i) => ({ index: r.index, entry: entries[i]! })), record)
      })
    }
  }

  it('a failed re-sign at start-up fails open, and the next open signs the same root', async () => {
    const { log, acknowledged } = await seeded(3)
    faulty.inject('lost', 1, true) // dies at the checkpoint write of the next integration
    void log.add(entryOf('x'))
    await faulty.died
    restart().inject('lost') // the re-sign at open
    await assert.rejects(Log.open(logOptions(faulty.db, record)), (err) => isScittError(err, 'INTERNAL'))
    restart()
    const reopened = await Log.open(logOptions(faulty.db, record))
    assert.equal(reopened.latestCheckpoint()!.size, 4)
    acknowledged.push({ index: (await reopened.add(entryOf('x'))).index, entry: entryOf('x') })
    assert.equal(acknowledged.at(-1)!.index, 3)
    await checkLog(reopened, acknowledged, record, [3, 4])
  })

  it('a random schedule of faults, deaths and duplicate adds keeps every invariant', async function () {
    this.timeout(30_000)
    let seed = 0x2545f491
    const random = (): number => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31
      return seed / 2 ** 31
    }
    const open = async (): Promise<Log> => {
      for (;;) {
        try {
          return await Log.open(logOptions(faulty.db, record, { batchSize: 16 }))
        } catch (err) {
          if (!faulty.crashed) assert.ok(isScittError(err, 'INTERNAL'), String(err))
          restart()
        }
      }
    }
    let log = await open()
    const acknowledged = new Map<string, Acknowledged>()
    const sizes: number[] = []
    let counter = 0
    let deaths = 0
    for (let step = 0; step < 40; step++) {
      if (random() < 0.5) faulty.inject(random() < 0.5 ? 'lost' : 'landed', Math.floor(random() * 4), random() < 0.4)
      const entries = Array.from({ length: 1 + Math.floor(random() * 40) }, () => {
        const known = [...acknowledged.values()]
        return random() < 0.2 && known.length > 0 ? known[Math.floor(random() * known.length)]!.entry : entryOf(`random ${counter++}`)
      })
      const outcomes = entries.map((e) => log.add(e))
      for (const [i, outcome] of outcomes.entries()) {
        outcome.then((value) => {
          const id = toHex(leafHash(entries[i]!))
          const before = acknowledged.get(id)
          assert.ok(before === undefined || before.index === value.index, 'an entry keeps its first index')
          acknowledged.set(id, { index: value.index, entry: entries[i]! })
        }, (err) => assert.ok(isScittError(err, 'INTERNAL'), String(err)))
      }
      await Promise.race([Promise.allSettled(outcomes), faulty.died])
      if (faulty.crashed || random() < 0.1) {
        deaths++
        restart()
        log = await open()
      }
      sizes.push(log.latestCheckpoint()!.size)
      await checkLog(log, acknowledged.values(), record, sizes.slice(-3))
    }
    await checkLog(log, acknowledged.values(), record, sizes)
    assert.ok(acknowledged.size > 100)
    assert.ok(deaths > 3)
  })
})
