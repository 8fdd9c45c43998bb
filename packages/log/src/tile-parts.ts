/**
 * How a hash tile is stored: not as one record but in parts small enough that a proof reads only what
 * it needs. A C2SP tlog-tiles tile L/N covers tree levels 8·L … 8·L+7 ("sublevels" 0–7) over 256
 * positions. It is stored as
 *
 *   strip k (k = 0…7)   positions [32k, 32k+32) at sublevels 0–4: the tile's hashes there and the
 *                       perfect nodes above them, up to the strip's root (exclusive);
 *   crown (k = 8)       sublevels 5–7: the nodes above the strips (one per full strip at sublevel 5).
 *
 * Each part is `u8 width ‖ sublevel 0 (width hashes) ‖ sublevel 1 (⌊width/2⌋) ‖ …`: a strip's width
 * is its number of tile positions (1–32), the crown's its number of full strips (1–8, stored only from
 * tile width 32 on). An inclusion proof's siblings at sublevels 0–7 of a tile are in one strip and the
 * crown (≈ 2.4 KB) instead of a whole 16 KB record; the crowns of all level-0 tiles take 1/36 of the
 * level-0 data and stay cached. Parts only grow: a wider part starts with the narrower one's hashes.
 */
import { HASH_SIZE, TILE_HEIGHT, TILE_WIDTH, nodeHash, type NodeId } from '@scitt/core'
import { copyBytes, corrupt } from './layout.js'

/** Hashes of one tile, by sublevel 0..7. */
export type TileNodes = Uint8Array[][]

/** Tile positions per strip, and sublevels in a strip. */
export const STRIP_WIDTH = 32
export const STRIP_HEIGHT = 5
export const STRIPS = TILE_WIDTH / STRIP_WIDTH
/** The part number of the crown. */
export const CROWN = STRIPS
const CROWN_HEIGHT = TILE_HEIGHT - STRIP_HEIGHT

export function emptyTileNodes (): TileNodes {
  return Array.from({ length: TILE_HEIGHT }, () => [])
}

function partHeight (part: number): number {
  return part === CROWN ? CROWN_HEIGHT : STRIP_HEIGHT
}

function partMaxWidth (part: number): number {
  return part === CROWN ? STRIPS : STRIP_WIDTH
}

/** Number of hashes in sublevels [0, sub) of a part of `width`. */
function hashesBelow (sub: number, width: number): number {
  let n = 0
  for (let j = 0; j < sub; j++) n += Math.floor(width / 2 ** j)
  return n
}

/** The width of part `part` in a tile of width `tileWidth`: 0 when the tile has no such part yet. */
export function partWidth (part: number, tileWidth: number): number {
  if (part === CROWN) return Math.floor(tileWidth / STRIP_WIDTH)
  return Math.max(0, Math.min(STRIP_WIDTH, tileWidth - part * STRIP_WIDTH))
}

/** The parts of a tile of `width` that hold its hashes at positions `from` … width−1 (all parts for 0). */
export function changedParts (from: number, width: number): number[] {
  const parts: number[] = []
  for (let k = Math.floor(from / STRIP_WIDTH); k * STRIP_WIDTH < width; k++) parts.push(k)
  if (partWidth(CROWN, width) > partWidth(CROWN, from)) parts.push(CROWN)
  return parts
}

/** Bytes of part `part` as stored for a tile of `tileWidth`. */
export function partByteLength (part: number, tileWidth: number): number {
  return 1 + hashesBelow(partHeight(part), partWidth(part, tileWidth)) * HASH_SIZE
}

/** Encodes part `part` of a tile from its nodes (the tile's width is nodes[0].length). */
export function encodePart (nodes: TileNodes, part: number): Uint8Array {
  const width = partWidth(part, nodes[0]!.length)
  if (width === 0) throw new RangeError(`tile of width ${nodes[0]!.length} has no part ${part}`)
  const height = partHeight(part)
  const base = part === CROWN ? STRIP_HEIGHT : 0
  const out = new Uint8Array(1 + hashesBelow(height, width) * HASH_SIZE)
  out[0] = width
  let at = 1
  for (let j = 0; j < height; j++) {
    const level = nodes[base + j]!
    const count = Math.floor(width / 2 ** j)
    const first = part === CROWN ? 0 : part * STRIP_WIDTH / 2 ** j
    if (level.length < first + count) throw new RangeError(`tile sublevel ${base + j} holds ${level.length} nodes, part ${part} needs ${first + count}`)
    for (let i = first; i < first + count; i++) {
      out.set(level[i]!, at)
      at += HASH_SIZE
    }
  }
  return out
}

/**
 * A stored part, ready for lookups: its width checked against its length once (parts are read many
 * times from the cache). The bytes are never changed.
 */
export class TilePart {
  /** A plain Uint8Array view of the stored bytes (a database Buffer's subarray() is slower). */
  readonly bytes: Uint8Array
  readonly width: number
  readonly #part: number
  readonly #height: number

  constructor (part: number, bytes: Uint8Array) {
    const height = partHeight(part)
    const width = bytes.length > 0 ? bytes[0]! : 0
    if (width < 1 || width > partMaxWidth(part) || bytes.length !== 1 + hashesBelow(height, width) * HASH_SIZE) {
      throw corrupt(`hash tile part ${part}`)
    }
    this.bytes = new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.length)
    this.width = width
    this.#part = part
    this.#height = height
  }

  /** Byte offset of node `pos` of the part's sublevel `sub`, or −1 when the part does not hold it. */
  offset (sub: number, pos: number): number {
    if (sub >= this.#height || pos >= Math.floor(this.width / 2 ** sub)) return -1
    return 1 + (hashesBelow(sub, this.width) + pos) * HASH_SIZE
  }

  /** Appends the part's nodes to a tile's sublevels (the part's place in the tile must be next). */
  appendTo (nodes: TileNodes): void {
    const base = this.#part === CROWN ? STRIP_HEIGHT : 0
    let at = 1
    for (let j = 0; j < this.#height; j++) {
      for (let i = 0; i < Math.floor(this.width / 2 ** j); i++) {
        nodes[base + j]!.push(copyBytes(this.bytes, at, at + HASH_SIZE))
        at += HASH_SIZE
      }
    }
  }
}

/** Where a perfect tree node is stored: tile (level, index), part, and the node's place in the part. */
export interface NodePlace {
  level: number
  index: number
  part: number
  sub: number
  pos: number
}

export function placeOf (id: NodeId): NodePlace {
  const sub = id.level % TILE_HEIGHT
  const level = (id.level - sub) / TILE_HEIGHT
  const perTile = TILE_WIDTH / 2 ** sub
  const index = Math.floor(id.index / perTile)
  const inTile = id.index - index * perTile
  if (sub >= STRIP_HEIGHT) return { level, index, part: CROWN, sub: sub - STRIP_HEIGHT, pos: inTile }
  const perStrip = STRIP_WIDTH / 2 ** sub
  const part = Math.floor(inTile / perStrip)
  return { level, index, part, sub, pos: inTile - part * perStrip }
}

/** A tile's nodes from its lowest row: every perfect node above it, sublevel by sublevel. */
export function nodesFromRow (row: readonly Uint8Array[]): TileNodes {
  const nodes = emptyTileNodes()
  nodes[0] = row.slice()
  for (let j = 1; j < TILE_HEIGHT; j++) {
    const below = nodes[j - 1]!
    for (let i = 0; i + 1 < below.length; i += 2) nodes[j]!.push(nodeHash(below[i]!, below[i + 1]!))
  }
  return nodes
}

/** A tile's nodes from its parts (strips in order, then the crown if it has one). */
export function tileNodes (parts: readonly TilePart[]): TileNodes {
  const nodes = emptyTileNodes()
  for (const part of parts) part.appendTo(nodes)
  return nodes
}

/** The C2SP hash tile of `width` from its strips (in order): the first `width` sublevel-0 hashes. */
export function tileBytes (strips: readonly TilePart[], width: number): Uint8Array {
  const out = new Uint8Array(width * HASH_SIZE)
  strips.forEach((strip, k) => {
    const count = partWidth(k, width)
    if (strip.width < count) throw corrupt(`hash tile strip ${k} (narrower than its tree)`)
    out.set(strip.bytes.subarray(1, 1 + count * HASH_SIZE), k * STRIP_WIDTH * HASH_SIZE)
  })
  return out
}
