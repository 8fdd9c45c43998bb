import assert from 'node:assert/strict'
import fc from 'fast-check'
import {
  CompactRange, HASH_SIZE, TILE_HEIGHT, TILE_WIDTH, consistencyProof, encodeHashTile, entryBundlePath, entryBundlesForSize,
  inclusionProof, isScittError, parseHashTile, parseTilePath, readNodesFromTiles, tileForNode, tilePath, tileWidth,
  tilesForSize, verifyConsistency, verifyInclusion, type NodeId, type NodeReader, type TileId,
} from '@scitt/core'
import { ReferenceTree, testLeaves } from './reference-tree.js'

const malformed = (e: unknown): boolean => isScittError(e, 'MALFORMED')

describe('merkle: tile paths (C2SP tlog-tiles)', () => {
  it('formats the spec example and partial tiles', () => {
    assert.equal(tilePath({ level: 0, index: 1234067, width: 256 }), 'tile/0/x001/x234/067')
    assert.equal(tilePath({ level: 0, index: 0, width: 256 }), 'tile/0/000')
    assert.equal(tilePath({ level: 1, index: 1, width: 17 }), 'tile/1/001.p/17')
    assert.equal(tilePath({ level: 63, index: 1000, width: 1 }), 'tile/63/x001/000.p/1')
    assert.equal(tilePath({ level: 2, index: 999, width: 255 }), 'tile/2/999.p/255')
    assert.equal(tilePath({ level: 0, index: Number.MAX_SAFE_INTEGER, width: 256 }), 'tile/0/x009/x007/x199/x254/x740/991')
    assert.equal(entryBundlePath(1234067, 256), 'tile/entries/x001/x234/067')
    assert.equal(entryBundlePath(273, 112), 'tile/entries/273.p/112')
  })

  it('rejects tiles that cannot exist', () => {
    for (const tile of [
      { level: 64, index: 0, width: 256 }, { level: -1, index: 0, width: 1 }, { level: 0, index: -1, width: 1 },
      { level: 0, index: 2 ** 53, width: 1 }, { level: 0, index: 1.5, width: 1 }, { level: 0, index: 0, width: 0 },
      { level: 0, index: 0, width: 257 }, { level: 0.5, index: 0, width: 1 },
    ]) assert.throws(() => tilePath(tile), RangeError, JSON.stringify(tile))
    assert.throws(() => entryBundlePath(0, 0), RangeError)
    assert.throws(() => entryBundlePath(-1, 1), RangeError)
  })

  it('parses what it formats, for any tile', () => {
    fc.assert(fc.property(
      fc.integer({ min: 0, max: 63 }), fc.maxSafeNat(), fc.integer({ min: 1, max: 256 }),
      (level, index, width) => {
        const tile = { level, index, width }
        assert.deepEqual(parseTilePath(tilePath(tile)), { kind: 'hash', tile })
        assert.deepEqual(parseTilePath(entryBundlePath(index, width)), { kind: 'entries', tile: { level: 0, index, width } })
      },
    ), { numRuns: 500 })
    assert.deepEqual(parseTilePath('tile/entries/000.p/1'), { kind: 'entries', tile: { level: 0, index: 0, width: 1 } })
    assert.deepEqual(parseTilePath('tile/0/x001/x234/067'), { kind: 'hash', tile: { level: 0, index: 1234067, width: 256 } })
  })

  it('rejects every non-canonical or malformed path', () => {
    const bad = [
      '', 'tile', 'tile/', 'tile/0', 'tile/0/', '/tile/0/000', 'tile/0/000/', 'tile//000', 'tiles/0/000',
      'tile/0/1234067', 'tile/0/x001/234/067', 'tile/0/x001/x234/67', 'tile/0/001/234', 'tile/0/x1234/067',
      'tile/0/00', 'tile/0/0000', 'tile/0/x000', 'tile/0/x000/001', 'tile/0/x000/x001/000', 'tile/0/X001/000',
      'tile/0/y001/000', 'tile/0/+01', 'tile/0/-01', 'tile/0/0x1', 'tile/0/ 001', 'tile/0/001 ',
      'tile/00/000', 'tile/01/000', 'tile/64/000', 'tile/100/000', 'tile/-1/000', 'tile/a/000', 'tile/1e1/000',
      'tile/0/000.p/0', 'tile/0/000.p/256', 'tile/0/000.p/007', 'tile/0/000.p/', 'tile/0/000.p', 'tile/0/000.p/1/',
      'tile/0/000.p/1.0', 'tile/0/000.p/+1', 'tile/0/000.P/1', 'tile/0/000p/1', 'tile/0/000.p/1000',
      'tile/entries/000.p/0', 'tile/entries/000.p/256', 'tile/entries/x000/001', 'tile/entries', 'tile/entries/',
      'tile/Entries/000', 'tile/data/000', 'tile/8/data/000', 'tile/8/0/000', 'tile/0/000?x', 'tile\\0\\000',
      'tile/0/x999/x999/x999/x999/x999/999', // above 2^53-1
      'tile/0/x001/x001/x001/x001/x001/x001/001', // too many elements
      'tile/0/x009/x007/x199/x254/x740/992', // 2^53
    ]
    for (const path of bad) assert.throws(() => parseTilePath(path), malformed, JSON.stringify(path))
    assert.throws(() => parseTilePath(7 as unknown as string), TypeError)
  })
})

describe('merkle: tiles of a tree', () => {
  it('lists the tiles of size 70 000 as in the spec', () => {
    const tiles = tilesForSize(70000)
    const at = (level: number): TileId[] => tiles.filter((t) => t.level === level)
    const l0 = at(0)
    assert.equal(l0.length, 274)
    assert.ok(l0.slice(0, 273).every((t, i) => t.index === i && t.width === 256))
    assert.deepEqual(l0[273], { level: 0, index: 273, width: 112 })
    assert.deepEqual(at(1), [{ level: 1, index: 0, width: 256 }, { level: 1, index: 1, width: 17 }])
    assert.deepEqual(at(2), [{ level: 2, index: 0, width: 1 }])
    assert.equal(tiles.length, 277)
    assert.deepEqual(entryBundlesForSize(70000), l0)
  })

  it('lists the tiles of small and boundary sizes', () => {
    assert.deepEqual(tilesForSize(0), [])
    assert.deepEqual(tilesForSize(1), [{ level: 0, index: 0, width: 1 }])
    assert.deepEqual(tilesForSize(255), [{ level: 0, index: 0, width: 255 }])
    assert.deepEqual(tilesForSize(256), [{ level: 0, index: 0, width: 256 }, { level: 1, index: 0, width: 1 }])
    assert.deepEqual(tilesForSize(257), [
      { level: 0, index: 0, width: 256 }, { level: 0, index: 1, width: 1 }, { level: 1, index: 0, width: 1 },
    ])
    assert.deepEqual(tilesForSize(65536).filter((t) => t.level > 0), [
      { level: 1, index: 0, width: 256 }, { level: 2, index: 0, width: 1 },
    ])
    assert.deepEqual(entryBundlesForSize(0), [])
    assert.deepEqual(entryBundlesForSize(513), [
      { level: 0, index: 0, width: 256 }, { level: 0, index: 1, width: 256 }, { level: 0, index: 2, width: 1 },
    ])
  })

  it('computes the width of any tile at any size, up to 2^53-1', () => {
    assert.equal(tileWidth(0, 273, 70000), 112)
    assert.equal(tileWidth(0, 272, 70000), 256)
    assert.equal(tileWidth(0, 274, 70000), 0)
    assert.equal(tileWidth(1, 1, 70000), 17)
    assert.equal(tileWidth(2, 0, 70000), 1)
    assert.equal(tileWidth(3, 0, 70000), 0)
    const max = Number.MAX_SAFE_INTEGER // 2^53-1: tree level 48 has 31 nodes
    assert.equal(tileWidth(6, 0, max), 31)
    assert.equal(tileWidth(5, 0, max), 256)
    assert.equal(tileWidth(5, 31, max), 255)
    assert.equal(tileWidth(0, Math.floor(max / 256), max), 255)
    assert.equal(tileWidth(7, 0, max), 0)
    for (const t of tilesForSize(70000)) assert.equal(tileWidth(t.level, t.index, 70000), t.width)
  })

  it('places every node in its tile', () => {
    assert.deepEqual(tileForNode({ level: 0, index: 70000 - 1 }, 70000),
      { tile: { level: 0, index: 273, width: 112 }, offset: 111, count: 1 })
    assert.deepEqual(tileForNode({ level: 3, index: 9 }, 70000),
      { tile: { level: 0, index: 0, width: 256 }, offset: 72, count: 8 })
    assert.deepEqual(tileForNode({ level: 8, index: 256 }, 70000),
      { tile: { level: 1, index: 1, width: 17 }, offset: 0, count: 1 })
    assert.deepEqual(tileForNode({ level: 15, index: 1 }, 70000),
      { tile: { level: 1, index: 0, width: 256 }, offset: 128, count: 128 })
    assert.deepEqual(tileForNode({ level: 16, index: 0 }, 70000),
      { tile: { level: 2, index: 0, width: 1 }, offset: 0, count: 1 })
    assert.deepEqual(tileForNode({ level: 51, index: 1 }, Number.MAX_SAFE_INTEGER),
      { tile: { level: 6, index: 0, width: 31 }, offset: 8, count: 8 })
    assert.throws(() => tileForNode({ level: 52, index: 1 }, Number.MAX_SAFE_INTEGER), RangeError)
    for (const id of [{ level: 0, index: 70000 }, { level: 4, index: 4375 }, { level: 17, index: 0 }, { level: 64, index: 0 }]) {
      assert.throws(() => tileForNode(id, 70000), RangeError, JSON.stringify(id))
    }
  })

  it('encodes and parses hash tiles strictly', () => {
    const hashes = testLeaves(3)
    const bytes = encodeHashTile(hashes)
    assert.equal(bytes.length, 3 * HASH_SIZE)
    assert.deepEqual(parseHashTile(bytes, 3), hashes)
    assert.throws(() => parseHashTile(bytes, 2), malformed)
    assert.throws(() => parseHashTile(bytes, 4), malformed)
    assert.throws(() => parseHashTile(bytes.subarray(1), 3), malformed)
    assert.throws(() => parseHashTile(bytes, 0), RangeError)
    assert.throws(() => parseHashTile(bytes, 257), RangeError)
    assert.throws(() => encodeHashTile([]), RangeError)
    assert.throws(() => encodeHashTile(testLeaves(257)), RangeError)
    assert.throws(() => encodeHashTile([new Uint8Array(31)]), RangeError)
    assert.equal(encodeHashTile(testLeaves(256)).length, TILE_WIDTH * HASH_SIZE)
  })
})

/** Every node of a tree built with CompactRange, as nodes[level][index], plus the roots at chosen sizes. */
function buildTree (leaves: Uint8Array[], rootsAt: Set<number>): { nodes: Uint8Array[][], roots: Map<number, Uint8Array> } {
  const nodes: Uint8Array[][] = []
  const roots = new Map<number, Uint8Array>()
  const range = CompactRange.empty()
  for (const leaf of leaves) {
    range.append(leaf, (level, index, hash) => { (nodes[level] ??= [])[index] = hash })
    if (rootsAt.has(range.size)) roots.set(range.size, range.root())
  }
  return { nodes, roots }
}

/** Serves tiles from the stored levels 0, 8, 16, … of `nodes`, logging each path read. */
function tileReader (nodes: Uint8Array[][], log: string[]): (tile: TileId) => Uint8Array {
  return (tile) => {
    log.push(tilePath(tile))
    const start = tile.index * TILE_WIDTH
    return encodeHashTile(nodes[tile.level * TILE_HEIGHT]!.slice(start, start + tile.width))
  }
}

describe('merkle: reading nodes and proofs from tiles', function () {
  this.timeout(10_000) // hashing-heavy; the shared CI machine may be loaded

  const N = 3000 // 11 full level-0 tiles, a partial one, and a partial level-1 tile
  const leaves = testLeaves(N)
  const oracle = new ReferenceTree(leaves)
  const { nodes } = buildTree(leaves, new Set())

  it('returns the reference hashes of any perfect node, reading each tile once', async () => {
    await fc.assert(fc.asyncProperty(
      fc.integer({ min: 1, max: N }).chain((size) => fc.tuple(
        fc.constant(size),
        fc.array(fc.integer({ min: 0, max: 11 }).chain((level) => fc.tuple(
          fc.constant(level), fc.integer({ min: 0, max: Math.max(0, Math.floor(size / 2 ** level) - 1) }),
        )), { minLength: 1, maxLength: 12 }),
      )),
      async ([size, pairs]) => {
        const ids: NodeId[] = pairs.filter(([level, index]) => (index + 1) * 2 ** level <= size).map(([level, index]) => ({ level, index }))
        const log: string[] = []
        const hashes = await readNodesFromTiles(ids, size, tileReader(nodes, log))
        assert.deepEqual(hashes, ids.map((id) => oracle.node(id)))
        assert.equal(new Set(log).size, log.length, 'each tile read once')
        for (const path of log) {
          const { tile } = parseTilePath(path)
          assert.equal(tile.width, tileWidth(tile.level, tile.index, size), 'the width that exists at size')
        }
      },
    ), { numRuns: 60 })
  })

  it('serves the reference proofs', async () => {
    await fc.assert(fc.asyncProperty(
      fc.integer({ min: 1, max: N }).chain((size) => fc.tuple(fc.constant(size), fc.integer({ min: 0, max: size - 1 }), fc.integer({ min: 0, max: size }))),
      async ([size, index, size1]) => {
        for (const [proof, expected] of [
          [(read: NodeReader) => inclusionProof(index, size, read), oracle.inclusion(index, size)],
          [(read: NodeReader) => consistencyProof(size1, size, read), oracle.consistency(size1, size)],
        ] as const) {
          const log: string[] = []
          assert.deepEqual(await proof((ids) => readNodesFromTiles(ids, size, tileReader(nodes, log))), expected)
          assert.equal(new Set(log).size, log.length, 'each tile read once per proof')
        }
      },
    ), { numRuns: 40 })
  })

  it('rejects tiles of the wrong length', async () => {
    const id = { level: 0, index: 5 }
    await assert.rejects(readNodesFromTiles([id], 10, () => new Uint8Array(9 * HASH_SIZE)), malformed)
    await assert.rejects(readNodesFromTiles([id], 10, () => new Uint8Array(10 * HASH_SIZE + 1)), malformed)
    await assert.rejects(readNodesFromTiles([id], 10, () => new Uint8Array(257 * HASH_SIZE)), malformed)
    await assert.rejects(readNodesFromTiles([{ level: 0, index: 10 }], 10, () => new Uint8Array(10 * HASH_SIZE)), RangeError)
  })

  it('accepts a stored tile that has grown since, using its prefix', async () => {
    const size = 300
    const grown = (tile: TileId): Uint8Array => {
      const start = tile.index * TILE_WIDTH
      return encodeHashTile(nodes[tile.level * TILE_HEIGHT]!.slice(start, start + tileWidth(tile.level, tile.index, N)))
    }
    const read: NodeReader = (ids) => readNodesFromTiles(ids, size, grown)
    assert.deepEqual(await inclusionProof(299, size, read), oracle.inclusion(299, size))
    assert.deepEqual(await consistencyProof(257, size, read), oracle.consistency(257, size))
  })
})

describe('merkle: a 70 000-leaf tree served from tiles', function () {
  this.timeout(10_000) // hashing-heavy; the shared CI machine may be loaded

  const SIZE = 70000
  const sizes = [1, 255, 256, 257, 4096, 65535, 65536, 65537, 69999, SIZE]
  let tree: ReturnType<typeof buildTree>
  before(() => { tree = buildTree(testLeaves(SIZE), new Set(sizes)) })
  const memory: NodeReader = (ids) => ids.map((id) => tree.nodes[id.level]![id.index]!)

  it('stores, in each tile, the nodes the spec names', () => {
    for (const tile of tilesForSize(SIZE)) {
      const bytes = tileReader(tree.nodes, [])(tile)
      const expected = tree.nodes[TILE_HEIGHT * tile.level]!.slice(tile.index * TILE_WIDTH, tile.index * TILE_WIDTH + tile.width)
      assert.equal(expected.length, tile.width)
      assert.deepEqual(parseHashTile(bytes, tile.width), expected)
    }
    // The one level-2 hash is the root of the first 65 536 leaves.
    assert.deepEqual(tree.nodes[16]![0], tree.roots.get(65536))
  })

  it('serves nodes of every level and the same proofs as the full node store', async () => {
    const { nodes, roots } = tree
    const log: string[] = []
    const fromTiles = (size: number): NodeReader => (ids) => readNodesFromTiles(ids, size, tileReader(nodes, log))
    const ids: NodeId[] = []
    for (let level = 0; level <= 16; level++) {
      const count = Math.floor(SIZE / 2 ** level)
      for (const index of new Set([0, 1, Math.floor(count / 2), count - 2, count - 1])) if (index >= 0 && index < count) ids.push({ level, index })
    }
    assert.deepEqual(await fromTiles(SIZE)(ids), await memory(ids))
    for (const size of sizes) {
      const root = roots.get(size)!
      for (const index of new Set([0, size - 1])) {
        const proof = await inclusionProof(index, size, fromTiles(size))
        assert.deepEqual(proof, await inclusionProof(index, size, memory))
        verifyInclusion(index, size, nodes[0]![index]!, proof, root)
      }
      for (const size1 of [0, 1, 257, 65536, 69999].filter((s) => s <= size)) {
        const proof = await consistencyProof(size1, size, fromTiles(size))
        assert.deepEqual(proof, await consistencyProof(size1, size, memory))
        if (size1 > 0) verifyConsistency(size1, size, roots.get(size1)!, root, proof)
      }
    }
  })
})
