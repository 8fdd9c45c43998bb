/** The tile cache: one byte budget shared by the upper tree and level-0 strips, and the right-edge subtree memo. */
import assert from 'node:assert/strict'
import { inclusionProof, perfectSubtrees, type NodeId } from '@scitt/core'
import { Log, diskFs, type LogDatabase } from '@scitt/log'
import { NodeRecords } from '../src/node-records.js'
import { StaticTree } from '../src/static-tree.js'
import { TileCache } from '../src/tile-cache.js'
import { TreeEdge } from '../src/tree-edge.js'
import { SignatureRecord, entryOf, filesFor, leavesFromBundles, logOptions, memoryBackend, mth } from './harness.js'

/** The log's node records, counting the parts read from them. */
function counting (records: NodeRecords): { records: NodeRecords, reads: () => number } {
  let reads = 0
  const view = Object.create(records) as NodeRecords
  view.readPart = async (level, index, part) => { reads++; return records.readPart(level, index, part) }
  return { records: view, reads: () => reads }
}

describe('tile cache', function () {
  this.timeout(30_000)
  const SIZE = 40 * 256 + 77 // 320 full level-0 strips (≈ 2.2 kB each), crowns, two level-1 strips
  const backend = memoryBackend()
  let db: LogDatabase
  let leaves: Uint8Array[]
  let records: NodeRecords
  let edge: TreeEdge
  /** A cache over the log's files with its right edge, as the log sets it up. */
  const cache = (view: NodeRecords, bytes: number): TileCache => {
    const tiles = new TileCache(view, bytes)
    tiles.setEdge(edge)
    return tiles
  }

  before(async () => {
    db = await backend.create()
    const log = await Log.open(logOptions(db, new SignatureRecord(), { batchSize: 256 }))
    for (let i = 0; i < SIZE; i += 1000) {
      await Promise.all(Array.from({ length: Math.min(1000, SIZE - i) }, (_, j) => log.add(entryOf(`cache ${i + j}`))))
    }
    leaves = (await leavesFromBundles(log, SIZE)).map((leaf) => new Uint8Array(leaf))
    await log.close()
    const files = filesFor(db)
    records = new NodeRecords(files.nodesDir, diskFs, false)
    edge = await TreeEdge.load(db, new StaticTree(files.dir, diskFs, false))
  })
  after(async () => {
    await records.close()
    await backend.cleanup()
  })

  /** MTH(D[begin:end]) by the harness's oracle, as a plain Uint8Array. */
  const hashOf = (begin: number, end: number): Uint8Array => new Uint8Array(mth(leaves, begin, end))
  const leafIds = (step: number): NodeId[] => Array.from({ length: Math.ceil(SIZE / step) }, (_, k) => ({ level: 0, index: k * step }))

  it('gives level-0 strips the budget the upper tree leaves unused', async () => {
    // The strips take ≈ 700 kB: more than half of 1 MiB, less than 1 MiB minus the small upper tree.
    const view = counting(records)
    const tiles = cache(view.records, 2 ** 20)
    const ids = leafIds(32).filter((id) => id.index < SIZE - 77) // one leaf per strip of the full tiles
    assert.deepEqual(await tiles.nodes(ids), ids.map((id) => leaves[id.index]))
    assert.equal(view.reads(), ids.length)
    assert.deepEqual(await tiles.nodes(ids), ids.map((id) => leaves[id.index]))
    assert.equal(view.reads(), ids.length, 'the second pass is served from the cache')
  })

  it('never evicts the upper tree for level-0 strips, and stays correct under churn', async () => {
    const view = counting(records)
    const tiles = cache(view.records, 64 * 1024)
    const upper = perfectSubtrees(0, SIZE).filter((id) => id.level >= 5) // crowns and level-1 tiles
    const expected = upper.map((id) => hashOf(id.index * 2 ** id.level, (id.index + 1) * 2 ** id.level))
    assert.deepEqual(await tiles.nodes(upper), expected)
    const afterUpper = view.reads()
    for (let round = 0; round < 2; round++) {
      const ids = leafIds(29)
      assert.deepEqual(await tiles.nodes(ids), ids.map((id) => leaves[id.index]))
    }
    const churned = view.reads()
    assert.ok(churned - afterUpper >= 1.5 * SIZE / 32, 'level-0 strips were evicted and read again')
    assert.deepEqual(await tiles.nodes(upper), expected)
    assert.equal(view.reads(), churned, 'no upper part was read again')
  })

  it('remembers the right-edge subtree hashes of a size from its peaks, for proofs', async () => {
    const tiles = cache(records, 2 ** 20)
    const peaks = perfectSubtrees(0, SIZE)
    tiles.rememberPeaks(SIZE, await tiles.nodes(peaks))
    for (const [k, id] of peaks.entries()) {
      const begin = id.index * 2 ** id.level
      const known = tiles.subtreeHash(begin, SIZE)
      if (k === 0 || k === peaks.length - 1) assert.equal(known, undefined, `no memo for peak ${k}`)
      else assert.deepEqual(known, hashOf(begin, SIZE), `MTH(D[${begin}:${SIZE}])`)
    }
    assert.throws(() => tiles.rememberPeaks(SIZE, []), RangeError)
    const read = (ids: NodeId[]): Promise<Uint8Array[]> => tiles.nodes(ids)
    for (const index of [0, 5000, 10240, SIZE - 1]) {
      assert.deepEqual(await inclusionProof(index, SIZE, read, tiles), await inclusionProof(index, SIZE, read), `proof of ${index}`)
    }
    // Only the latest 64 sizes are kept, and clear() forgets them all.
    for (let size = 1; size <= 64; size++) tiles.rememberSubtree(0, size, leaves[0]!)
    assert.equal(tiles.subtreeHash(peaks[1]!.index * 2 ** peaks[1]!.level, SIZE), undefined)
    assert.deepEqual(tiles.subtreeHash(0, 64), leaves[0])
    tiles.clear()
    assert.equal(tiles.subtreeHash(0, 64), undefined)
  })
})
