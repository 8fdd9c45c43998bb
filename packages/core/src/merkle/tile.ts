/**
 * C2SP tlog-tiles (v0.1.0) hash tiles: tile n at level l holds the tree nodes at level 8·l with
 * indexes n·256 … n·256+255, i.e. MTH(D[(n·256+i)·256^l : (n·256+i+1)·256^l]). Level-0 tiles hold the
 * leaf hashes. A tile is partial (width < 256) only at the right edge of the tree.
 */
import { malformed } from '../errors.js'
import { assertIndex, shiftRight } from './bits.js'
import { HASH_SIZE, assertHash, nodeHash } from './hash.js'
import type { NodeId } from './node-id.js'

export const TILE_HEIGHT = 8
export const TILE_WIDTH = 256
/** Highest tile level a path may name (C2SP tlog-tiles: L is 0–63). */
export const MAX_TILE_LEVEL = 63

/** A tile as it exists at some tree size: width 1..256, 256 = full. */
export interface TileId {
  level: number
  index: number
  width: number
}

function assertTile (tile: TileId): void {
  if (typeof tile !== 'object' || tile === null) throw new TypeError('tile must be an object')
  if (!Number.isInteger(tile.level) || tile.level < 0 || tile.level > MAX_TILE_LEVEL) throw new RangeError('tile level must be 0..63')
  assertIndex(tile.index, 'tile index')
  assertWidth(tile.width)
}

function assertWidth (width: number): void {
  if (!Number.isInteger(width) || width < 1 || width > TILE_WIDTH) throw new RangeError('tile width must be 1..256')
}

/** N as path elements: 1234067 → x001/x234/067. */
function formatIndex (index: number): string {
  let n = index
  let out = String(n % 1000).padStart(3, '0')
  while (n >= 1000) {
    n = Math.floor(n / 1000)
    out = `x${String(n % 1000).padStart(3, '0')}/${out}`
  }
  return out
}

function formatSuffix (width: number): string {
  return width === TILE_WIDTH ? '' : `.p/${width}`
}

/** `tile/<L>/<N>[.p/<W>]` (C2SP tlog-tiles), without a leading slash or prefix. */
export function tilePath (tile: TileId): string {
  assertTile(tile)
  return `tile/${tile.level}/${formatIndex(tile.index)}${formatSuffix(tile.width)}`
}

/** `tile/entries/<N>[.p/<W>]`: the entry bundle of leaves index·256 … index·256+width−1. */
export function entryBundlePath (index: number, width: number): string {
  assertIndex(index, 'index')
  assertWidth(width)
  return `tile/entries/${formatIndex(index)}${formatSuffix(width)}`
}

export type ParsedTilePath = { kind: 'hash', tile: TileId } | { kind: 'entries', tile: TileId }

// At most 6 index elements: enough for every safe integer (2^53 has 16 decimal digits).
const TILE_PATH = /^tile\/(entries|0|[1-9][0-9]?)\/((?:x[0-9]{3}\/){0,5}[0-9]{3})(?:\.p\/([1-9][0-9]{0,2}))?$/

/**
 * Strict inverse of tilePath / entryBundlePath: canonical text only (no superfluous x000/ elements,
 * no leading zeros in L or W), L 0..63, W 1..255. Anything else is MALFORMED. Entry bundles get level 0.
 */
export function parseTilePath (path: string): ParsedTilePath {
  if (typeof path !== 'string') throw new TypeError('path must be a string')
  const m = TILE_PATH.exec(path)
  if (m === null) throw malformed('not a tile path')
  const kind = m[1] === 'entries' ? 'entries' : 'hash'
  const level = kind === 'entries' ? 0 : Number(m[1])
  const index = Number(m[2]!.replace(/[x/]/g, ''))
  const width = m[3] === undefined ? TILE_WIDTH : Number(m[3])
  if (level > MAX_TILE_LEVEL) throw malformed('tile level above 63')
  if (m[3] !== undefined && width >= TILE_WIDTH) throw malformed('partial tile width must be 1..255')
  if (!Number.isSafeInteger(index)) throw malformed('tile index above 2^53-1')
  if (formatIndex(index) !== m[2]) throw malformed('non-canonical tile index')
  return { kind, tile: { level, index, width } }
}

/** Width of tile (level, index) in the tree of `size` leaves: 1..256, or 0 when it does not exist yet. */
export function tileWidth (level: number, index: number, size: number): number {
  assertIndex(level, 'level')
  assertIndex(index, 'index')
  assertIndex(size, 'size')
  const nodes = shiftRight(size, TILE_HEIGHT * level) // nodes at tree level 8·level
  return Math.max(0, Math.min(TILE_WIDTH, nodes - index * TILE_WIDTH))
}

function tilesAtLevel (level: number, size: number): TileId[] {
  const nodes = shiftRight(size, TILE_HEIGHT * level)
  const full = Math.floor(nodes / TILE_WIDTH)
  const out: TileId[] = []
  for (let index = 0; index < full; index++) out.push({ level, index, width: TILE_WIDTH })
  if (nodes % TILE_WIDTH !== 0) out.push({ level, index: full, width: nodes % TILE_WIDTH })
  return out
}

/**
 * Every hash tile of the tree of `size` leaves, level by level, with the partial widths that exist at
 * that size (C2SP tlog-tiles). One entry per 256 leaves: meant for modest sizes and tests.
 */
export function tilesForSize (size: number): TileId[] {
  assertIndex(size, 'size')
  const out: TileId[] = []
  for (let level = 0; shiftRight(size, TILE_HEIGHT * level) > 0; level++) out.push(...tilesAtLevel(level, size))
  return out
}

/** Every entry bundle of the tree of `size` leaves: the coordinates of its level-0 tiles. */
export function entryBundlesForSize (size: number): TileId[] {
  assertIndex(size, 'size')
  return tilesAtLevel(0, size)
}

/**
 * Where a perfect node lives in the tiles of the tree of `size` leaves: the tile (with the width it has
 * at that size) and the `count` = 2^(level mod 8) stored hashes from `offset` whose perfect subtree is
 * the node (count 1 when the node is stored itself). RangeError when the node is not inside the tree.
 */
export function tileForNode (id: NodeId, size: number): { tile: TileId, offset: number, count: number } {
  assertIndex(id.level, 'node level')
  assertIndex(id.index, 'node index')
  assertIndex(size, 'size')
  if (id.level > 63 || (id.index + 1) * 2 ** id.level > size) {
    throw new RangeError(`node (${id.level}, ${id.index}) is not inside the tree of size ${size}`)
  }
  const level = Math.floor(id.level / TILE_HEIGHT)
  const count = 2 ** (id.level % TILE_HEIGHT)
  const first = id.index * count // index of the first stored hash at tree level 8·level
  const index = Math.floor(first / TILE_WIDTH)
  return {
    tile: { level, index, width: tileWidth(level, index, size) },
    offset: first % TILE_WIDTH,
    count,
  }
}

/**
 * The hashes of perfect nodes of the tree of `size` leaves, read from its hash tiles: each tile is read
 * once per call, and a node between stored levels is recomputed from the hashes below it in its tile.
 * `readTile` may return a tile wider than asked (the tree grew since): stored hashes never change, so
 * its prefix is used. Otherwise a tile of the wrong length is MALFORMED.
 * Usable as a NodeReader: `(ids) => readNodesFromTiles(ids, size, readTile)`.
 */
export async function readNodesFromTiles (
  ids: NodeId[],
  size: number,
  readTile: (tile: TileId) => Uint8Array | Promise<Uint8Array>,
): Promise<Uint8Array[]> {
  const places = ids.map((id) => tileForNode(id, size))
  const tiles = new Map<string, TileId>()
  for (const { tile } of places) tiles.set(`${tile.level}/${tile.index}`, tile)
  const loaded = new Map<string, Uint8Array[]>()
  await Promise.all([...tiles].map(async ([key, tile]) => {
    const bytes = await readTile(tile)
    const need = tile.width * HASH_SIZE
    const wider = bytes instanceof Uint8Array && bytes.length > need && bytes.length <= TILE_WIDTH * HASH_SIZE && bytes.length % HASH_SIZE === 0
    loaded.set(key, parseHashTile(wider ? bytes.subarray(0, need) : bytes, tile.width))
  }))
  return places.map(({ tile, offset, count }) => {
    let level = loaded.get(`${tile.level}/${tile.index}`)!.slice(offset, offset + count)
    while (level.length > 1) {
      const up: Uint8Array[] = []
      for (let i = 0; i < level.length; i += 2) up.push(nodeHash(level[i]!, level[i + 1]!))
      level = up
    }
    return level[0]!.slice()
  })
}

/** The `width` hashes of a hash tile (subarrays of `bytes`); MALFORMED unless it is exactly width·32 bytes. */
export function parseHashTile (bytes: Uint8Array, width: number): Uint8Array[] {
  if (!(bytes instanceof Uint8Array)) throw new TypeError('tile must be a Uint8Array')
  assertWidth(width)
  if (bytes.length !== width * HASH_SIZE) throw malformed(`hash tile of width ${width} must be ${width * HASH_SIZE} bytes, got ${bytes.length}`)
  const out: Uint8Array[] = []
  for (let i = 0; i < width; i++) out.push(bytes.subarray(i * HASH_SIZE, (i + 1) * HASH_SIZE))
  return out
}

/** The bytes of a hash tile: 1..256 concatenated 32-byte hashes. */
export function encodeHashTile (hashes: readonly Uint8Array[]): Uint8Array {
  if (!Array.isArray(hashes)) throw new TypeError('hashes must be an array')
  assertWidth(hashes.length)
  const out = new Uint8Array(hashes.length * HASH_SIZE)
  hashes.forEach((h, i) => {
    assertHash(h, `hashes[${i}]`)
    out.set(h, i * HASH_SIZE)
  })
  return out
}
