/** The compliance suite, run against memory-level and against LevelDB in a temp directory. */
import assert from 'node:assert/strict'
import {
  TILE_WIDTH, equalBytes, fromHex, isScittError, leafHash, openCheckpoint, parseHashTile, toHex, verifyConsistency,
  verifyInclusion, verifyReceipt,
} from '@scitt/core'
import { Log, type LogDatabase, type PublishedCheckpoint } from '@scitt/log'
import { loadVector } from '../../../test/fixtures.js'
import {
  SignatureRecord, checkLog, checkTiles, entryOf, leavesFromBundles, levelBackend, logOptions, memoryBackend, mth,
  noteVerifier, receiptVerifier, type Acknowledged, type Backend,
} from './harness.js'

interface MerkleVector {
  leaf_inputs: string[]
  roots: Record<string, string>
  inclusion: Array<{ size: number, index: number, proof: string[] }>
  consistency: Array<{ size1: number, size2: number, proof: string[] }>
}

async function rejectsWith (promise: Promise<unknown>, code: string): Promise<void> {
  await assert.rejects(promise, (err) => isScittError(err) && err.code === code)
}

for (const backend of [memoryBackend(), levelBackend()] as Backend[]) {
  describe(`Log on ${backend.name}`, function () {
    let db: LogDatabase
    let record: SignatureRecord

    beforeEach(async () => {
      db = await backend.create()
      record = new SignatureRecord()
    })
    afterEach(() => backend.cleanup())

    it('reproduces the RFC 9162 vector roots and proofs, one checkpoint per entry', async () => {
      const vector = loadVector<MerkleVector>('rfc9162-merkle')
      const log = await Log.open(logOptions(db, record, { batchSize: 1 }))
      assert.ok(equalBytes(log.latestCheckpoint()!.rootHash, fromHex(vector.roots['0']!)), 'empty tree is signed on first open')
      for (const [i, input] of vector.leaf_inputs.entries()) {
        assert.deepEqual(await log.add(fromHex(input)), { index: i, entryId: toHex(leafHash(fromHex(input))) })
      }
      for (const [size, root] of Object.entries(vector.roots)) {
        assert.equal(toHex((await log.checkpointAt(Number(size))).rootHash), root, `root ${size}`)
      }
      for (const { size, index, proof } of vector.inclusion) assert.deepEqual((await log.inclusionProof(index, size)).map(toHex), proof)
      for (const { size1, size2, proof } of vector.consistency) assert.deepEqual((await log.consistencyProof(size1, size2)).map(toHex), proof)
      await log.close()
    })

    it('passes fsck when it never stored an entry (only the signed empty tree)', async () => {
      const log = await Log.open(logOptions(db, record))
      assert.equal(log.latestCheckpoint()!.size, 0)
      const report = await log.fsck()
      assert.deepEqual(report.errors, [])
      assert.equal(report.checkpoints, 1)
      await log.close()
    })

    it('lists every checkpoint above a size, in order, however many the database returns per read', async () => {
      const log = await Log.open(logOptions(db, record, { batchSize: 1 }))
      for (let i = 0; i < 300; i++) await log.add(entryOf(`listed ${i}`)) // one checkpoint per entry: ~100 KiB of records
      const all = await log.checkpointsAfter(0, 1000)
      assert.deepEqual(all.map((cp) => cp.size), Array.from({ length: 300 }, (_, i) => i + 1))
      for (const cp of all.slice(0, 5)) assert.equal(cp.note, (await log.checkpointAt(cp.size)).note)
      assert.deepEqual((await log.checkpointsAfter(100, 250)).map((cp) => cp.size), Array.from({ length: 200 }, (_, i) => i + 101))
      assert.deepEqual((await log.checkpointsAfter(7, 3)).map((cp) => cp.size), [8, 9, 10])
      assert.deepEqual(await log.checkpointsAfter(300, 10), [])
      await log.close()
    })

    it('acknowledges after the checkpoint is persisted, and serves it', async () => {
      const log = await Log.open(logOptions(db, record))
      const seen: PublishedCheckpoint[] = []
      const stored: boolean[] = []
      log.onCheckpoint((cp) => {
        seen.push(cp)
        void log.checkpointAt(cp.size).then(() => stored.push(true), () => stored.push(false))
      })
      const entries = Array.from({ length: 10 }, (_, i) => entryOf(`ack ${i}`))
      const results = await Promise.all(entries.map((e) => log.add(e)))
      assert.deepEqual(results.map((r) => r.index).sort((a, b) => a - b), [...Array(10).keys()])
      const latest = log.latestCheckpoint()!
      assert.equal(latest.size, 10)
      assert.equal(seen.at(-1), latest)
      const opened = openCheckpoint(latest.note, noteVerifier)
      assert.equal(opened.checkpoint.size, 10)
      assert.ok(equalBytes(opened.checkpoint.rootHash, latest.rootHash))
      const receipts = new Map<string, Uint8Array>()
      for (const r of results) {
        assert.ok(equalBytes(await log.entry(r.index), entries.find((e) => toHex(leafHash(e)) === r.entryId)!))
        assert.equal(await log.indexOf(r.entryId), r.index)
        const receipt = await log.receipt(r.entryId)
        verifyReceipt(receipt, { entry: await log.entry(r.index) }, receiptVerifier)
        receipts.set(r.entryId, receipt)
      }
      assert.equal((await log.whenIntegrated(9)).size, 10)
      const later = log.whenIntegrated(10)
      await log.add(entryOf('ack 10'))
      assert.equal((await later).size, 11)
      for (const [entryId, receipt] of receipts) {
        assert.deepEqual(await log.receipt(entryId), receipt, 'a receipt stays the same as the log grows')
      }
      await new Promise((resolve) => setTimeout(resolve, 10))
      assert.ok(stored.length > 0 && stored.every(Boolean), 'listeners run after the checkpoint is stored')
      await log.close()
    })

    it('deduplicates by entry id, within a batch and across batches', async () => {
      const log = await Log.open(logOptions(db, record))
      const e = entryOf('dup')
      const [a, b] = await Promise.all([log.add(e), log.add(e.slice())])
      assert.deepEqual(a, b)
      const before = log.latestCheckpoint()!.size
      assert.deepEqual(await log.add(e), a)
      assert.equal(log.latestCheckpoint()!.size, before, 'a duplicate does not grow the log')
      await log.close()
      const reopened = await Log.open(logOptions(db, record))
      assert.deepEqual(await reopened.add(e), a, 'dedup survives a restart')
      await reopened.close()
    })

    it('flushes a batch when full and when its oldest entry is old enough', async () => {
      const log = await Log.open(logOptions(db, record, { batchSize: 10, batchAgeMs: 60_000 }))
      const sizes: number[] = []
      log.onCheckpoint((cp) => sizes.push(cp.size))
      await Promise.all(Array.from({ length: 20 }, (_, i) => log.add(entryOf(`full ${i}`))))
      assert.deepEqual(sizes, [10, 20])
      const young = Log.open(logOptions(db, record, { batchSize: 1000, batchAgeMs: 30 }))
      await log.close()
      const aged = await young
      const start = performance.now()
      await Promise.all([aged.add(entryOf('age 1')), aged.add(entryOf('age 2'))])
      assert.ok(performance.now() - start >= 25, 'waited for the batch age')
      assert.equal(aged.latestCheckpoint()!.size, 22)
      await aged.close()
    })

    it('pushes back when too many entries are pending, and close integrates the queue', async () => {
      const log = await Log.open(logOptions(db, record, { batchSize: 100, batchAgeMs: 60_000, maxPending: 5 }))
      const accepted = Array.from({ length: 5 }, (_, i) => log.add(entryOf(`pb ${i}`)))
      assert.equal(log.pending, 5)
      await rejectsWith(log.add(entryOf('pb 5')), 'PUSHBACK')
      const duplicate = log.add(entryOf('pb 0')) // a pending duplicate is not new work: no PUSHBACK
      const closing = log.close()
      assert.equal((await Promise.all(accepted)).length, 5)
      await closing
      assert.deepEqual(await duplicate, await accepted[0])
      assert.equal(log.latestCheckpoint()!.size, 5)
      await rejectsWith(log.add(entryOf('after close')), 'INTERNAL')
    })

    it('stores tiles and bundles that rebuild every signed root, across tile boundaries', async () => {
      const log = await Log.open(logOptions(db, record, { batchSize: 200 }))
      const acknowledged: Acknowledged[] = []
      const sizes: number[] = []
      log.onCheckpoint((cp) => sizes.push(cp.size))
      let i = 0
      for (const n of [1, 7, 100, 255, 256, 3, 300, 1]) {
        const entries = Array.from({ length: n }, () => entryOf(`tile ${i++}`))
        const results = await Promise.all(entries.map((e) => log.add(e)))
        results.forEach((r, k) => acknowledged.push({ index: r.index, entry: entries[k]! }))
      }
      await checkLog(log, acknowledged, record, sizes)
      const leaves = await leavesFromBundles(log, log.latestCheckpoint()!.size)
      for (const size of sizes) {
        await checkTiles(log, leaves.slice(0, size)) // the partial tiles of every signed size
        for (const other of sizes.filter((s) => s <= size)) {
          verifyConsistency(other, size, mth(leaves, 0, other), mth(leaves, 0, size), await log.consistencyProof(other, size))
        }
      }
      await log.close()
    })

    it('serves only what a checkpoint covers', async () => {
      const log = await Log.open(logOptions(db, record))
      await Promise.all(Array.from({ length: 300 }, (_, i) => log.add(entryOf(`nf ${i}`))))
      const size = log.latestCheckpoint()!.size
      assert.equal(size, 300)
      await rejectsWith(log.entry(300), 'NOT_FOUND')
      await rejectsWith(log.tile({ level: 0, index: 1, width: 45 }), 'NOT_FOUND')
      await rejectsWith(log.tile({ level: 1, index: 0, width: 2 }), 'NOT_FOUND')
      await rejectsWith(log.entryBundle(1, 45), 'NOT_FOUND')
      await rejectsWith(log.entryBundle(2, 1), 'NOT_FOUND')
      await rejectsWith(log.checkpointAt(299), 'NOT_FOUND')
      await rejectsWith(log.checkpointAt(301), 'NOT_FOUND')
      await rejectsWith(log.inclusionProof(0, 301), 'NOT_FOUND')
      await rejectsWith(log.consistencyProof(10, 301), 'NOT_FOUND')
      await rejectsWith(log.receipt('00'.repeat(32)), 'NOT_FOUND')
      await rejectsWith(log.indexOf('XYZ'), 'MALFORMED')
      assert.equal(await log.indexOf('00'.repeat(32)), undefined)
      assert.equal(parseHashTile(await log.tile({ level: 0, index: 1, width: 44 }), 44).length, 44)
      assert.equal((await log.tile({ level: 1, index: 0, width: 1 })).length, 32)
      await rejectsWith(log.add(new Uint8Array(65_536)), 'TOO_LARGE')
      assert.equal((await log.add(new Uint8Array(65_535))).index, 300)
      assert.equal((await log.add(new Uint8Array(0))).index, 301, 'an empty entry is an entry')
      await log.close()
    })

    it('reads runs of full entry bundles, only full ones, as many as fit the byte limit', async () => {
      const log = await Log.open(logOptions(db, record, { batchSize: 256 }))
      await Promise.all(Array.from({ length: 3 * 256 + 10 }, (_, i) => log.add(entryOf(`run ${i}`))))
      const bundles = [0, 1, 2].map((n) => log.entryBundle(n))
      const full = await Promise.all(bundles)
      assert.deepEqual(await log.entryBundles(0, 64, 1 << 20), full, 'three full bundles, not the partial fourth')
      assert.deepEqual(await log.entryBundles(1, 1, 1 << 20), [full[1]])
      assert.deepEqual(await log.entryBundles(0, 3, full[0]!.length + full[1]!.length), full.slice(0, 2), 'stops at the byte limit')
      assert.deepEqual(await log.entryBundles(2, 3, 1), [full[2]], 'at least one, whatever the limit')
      await rejectsWith(log.entryBundles(3, 1, 1 << 20), 'NOT_FOUND')
      await log.close()
    })

    it('resumes exactly where the last integration ended after a restart', async () => {
      const log = await Log.open(logOptions(db, record))
      const acknowledged: Acknowledged[] = []
      for (let i = 0; i < 40; i++) {
        const entry = entryOf(`resume ${i}`)
        acknowledged.push({ index: (await log.add(entry)).index, entry })
      }
      const latest = log.latestCheckpoint()!
      await log.close()
      const signed = record.texts.length
      const reopened = await Log.open(logOptions(db, record))
      assert.equal(record.texts.length, signed, 'a clean restart signs nothing')
      assert.deepEqual(reopened.latestCheckpoint(), latest)
      const entry = entryOf('resume 40')
      acknowledged.push({ index: (await reopened.add(entry)).index, entry })
      assert.equal(acknowledged.at(-1)!.index, 40)
      await checkLog(reopened, acknowledged, record)
      await reopened.close()
    })

    it('proves from a tiny tile cache as from a large one', async () => {
      const log = await Log.open(logOptions(db, record, { tileCacheBytes: 1 }))
      await Promise.all(Array.from({ length: 700 }, (_, i) => log.add(entryOf(`cache ${i}`))))
      const leaves = await leavesFromBundles(log, 700)
      const root = log.latestCheckpoint()!.rootHash
      await Promise.all(Array.from({ length: 700 }, async (_, i) => verifyInclusion(i, 700, leaves[i]!, await log.inclusionProof(i), root)))
      await log.close()
    })

    it('serves the same proofs, tiles and receipts after a restart with a cold cache, concurrently and one by one', async () => {
      const log = await Log.open(logOptions(db, record, { batchSize: 7 }))
      const size = 600
      for (let i = 0; i < size; i += 50) await Promise.all(Array.from({ length: 50 }, (_, j) => log.add(entryOf(`restart ${i + j}`))))
      const indexes = [0, 1, 31, 32, 255, 256, 300, 511, 512, 599]
      const before = await Promise.all(indexes.map(async (i) => [await log.inclusionProof(i), await log.receipt(i)] as const))
      const tiles = [{ level: 0, index: 0, width: 256 }, { level: 0, index: 2, width: 88 }, { level: 1, index: 0, width: 2 }]
      const tileBytes = await Promise.all(tiles.map((t) => log.tile(t)))
      await log.close()
      for (const tileCacheBytes of [1, 2 ** 20]) {
        const reopened = await Log.open(logOptions(db, record, { tileCacheBytes }))
        // Concurrent requests share database reads; each must still get its own, correct answer.
        const after = await Promise.all(indexes.map(async (i) => [await reopened.inclusionProof(i), await reopened.receipt(i)] as const))
        assert.deepEqual(after, before, `proofs and receipts after a restart (cache ${tileCacheBytes} bytes)`)
        assert.deepEqual(await Promise.all(tiles.map((t) => reopened.tile(t))), tileBytes)
        for (const [k, i] of indexes.entries()) assert.deepEqual(await reopened.inclusionProof(i), before[k]![0], `proof of ${i}, alone`)
        await reopened.close()
      }
    })

    it('gives a receipt at the first covering checkpoint, whether that checkpoint is recent or long past', async () => {
      const log = await Log.open(logOptions(db, record, { batchSize: 1 }))
      const covering = new Map<number, number>()
      for (let i = 0; i < 100; i++) {
        const { index } = await log.add(entryOf(`recent ${i}`))
        covering.set(index, log.latestCheckpoint()!.size)
      }
      const receipts = new Map<number, Uint8Array>()
      for (const [index, size] of covering) {
        const receipt = await log.receipt(index)
        assert.equal(verifyReceipt(receipt, { entry: await log.entry(index) }, receiptVerifier).treeSize, size, `receipt of ${index}`)
        receipts.set(index, receipt)
      }
      await log.close()
      const reopened = await Log.open(logOptions(db, record, { batchSize: 1 }))
      await reopened.add(entryOf('recent 100'))
      for (const [index, receipt] of receipts) assert.deepEqual(await reopened.receipt(index), receipt, `receipt of ${index} after a restart`)
      await reopened.close()
    })

    if (backend.name === 'LevelDB') {
      it('holds 70 000 entries: the C2SP tlog-tiles example sizes, level 2 included', async function () {
        this.timeout(60_000)
        const log = await Log.open(logOptions(db, record, { batchSize: 4096, maxPending: 100_000 }))
        const size = 70_000
        await Promise.all(Array.from({ length: size }, (_, i) => log.add(entryOf(`big ${i}`))))
        assert.equal(log.latestCheckpoint()!.size, size)
        // 273 full level-0 tiles + width 112; 1 full level-1 tile + width 17; level 2 width 1.
        assert.equal((await log.tile({ level: 0, index: 273, width: 112 })).length, 112 * 32)
        assert.equal((await log.tile({ level: 1, index: 1, width: 17 })).length, 17 * 32)
        assert.equal((await log.tile({ level: 2, index: 0, width: 1 })).length, 32)
        await rejectsWith(log.tile({ level: 2, index: 0, width: 2 }), 'NOT_FOUND')
        const leaves = await leavesFromBundles(log, size)
        assert.ok(equalBytes(mth(leaves), log.latestCheckpoint()!.rootHash))
        await checkTiles(log, leaves)
        const report = await log.fsck({ noteVerifiers: [noteVerifier], receiptVerifiers: [receiptVerifier] })
        assert.deepEqual(report.errors, [])
        assert.equal(report.entries, size)
        for (const index of [0, 255, 256, 65_535, 65_536, 69_999]) {
          verifyInclusion(index, size, leaves[index]!, await log.inclusionProof(index), log.latestCheckpoint()!.rootHash)
        }
        assert.equal(TILE_WIDTH, 256)
        await log.close()
      })
    }
  })
}
