/**
 * A stored hash tile: the C2SP tlog-tiles tile (its `width` hashes at tree level 8·L) followed by every
 * perfect node inside it, so that a proof reads a node between stored levels instead of re-hashing up
 * to 255 hashes per tile:
 *
 *   u16 width ‖ sublevel 0 (width hashes) ‖ sublevel 1 (⌊width/2⌋) ‖ … ‖ sublevel 7 (⌊width/128⌋)
 *
 * Sublevel j holds the nodes at tree level 8·L + j. The tile served over tlog-tiles is bytes
 * [2, 2 + W·32) for any W ≤ width.
 */
import { HASH_SIZE, TILE_HEIGHT, TILE_WIDTH } from '@scitt/core'
import { copyBytes, corrupt } from './layout.js'

/** Hashes of one tile, by sublevel 0..7. */
export type TileNodes = Uint8Array[][]

export function emptyTileNodes (): TileNodes {
  return Array.from({ length: TILE_HEIGHT }, () => [])
}

/** Number of hashes stored before sublevel `sub` in a record of `width`. */
function sublevelOffset (sub: number, width: number): number {
  let n = 0
  for (let j = 0; j < sub; j++) n += Math.floor(width / 2 ** j)
  return n
}

export function encodeTileRecord (nodes: TileNodes): Uint8Array {
  const width = nodes[0]!.length
  const out = new Uint8Array(2 + sublevelOffset(TILE_HEIGHT, width) * HASH_SIZE)
  out[0] = Math.floor(width / 256)
  out[1] = width % 256
  let at = 2
  for (let j = 0; j < TILE_HEIGHT; j++) {
    const level = nodes[j]!
    if (level.length !== Math.floor(width / 2 ** j)) throw new RangeError(`tile sublevel ${j} holds ${level.length} nodes for width ${width}`)
    for (const h of level) {
      out.set(h, at)
      at += HASH_SIZE
    }
  }
  return out
}

/** The width of a record, after checking its length matches. */
export function tileRecordWidth (record: Uint8Array): number {
  if (record.length < 2) throw corrupt('hash tile')
  const width = record[0]! * 256 + record[1]!
  if (width < 1 || width > TILE_WIDTH || record.length !== 2 + sublevelOffset(TILE_HEIGHT, width) * HASH_SIZE) throw corrupt('hash tile')
  return width
}

export function decodeTileRecord (record: Uint8Array): TileNodes {
  const width = tileRecordWidth(record)
  const nodes = emptyTileNodes()
  let at = 2
  for (let j = 0; j < TILE_HEIGHT; j++) {
    for (let i = 0; i < Math.floor(width / 2 ** j); i++) {
      nodes[j]!.push(copyBytes(record, at, at + HASH_SIZE))
      at += HASH_SIZE
    }
  }
  return nodes
}

/** The C2SP hash tile of `width` ≤ the record's width: its first `width` level-8·L hashes. */
export function tileBytes (record: Uint8Array, width: number): Uint8Array {
  const stored = tileRecordWidth(record)
  if (width > stored) throw corrupt('hash tile (narrower than its tree)')
  return copyBytes(record, 2, 2 + width * HASH_SIZE)
}

/**
 * A record ready for node lookups: its width and where each sublevel starts, computed once (records
 * are read many times from the proof cache). Lookups return copies; the record itself is never changed.
 */
export class TileRecord {
  readonly bytes: Uint8Array
  readonly width: number
  readonly #starts: number[] = []

  constructor (record: Uint8Array) {
    this.width = tileRecordWidth(record)
    this.bytes = record
    for (let sub = 0; sub < TILE_HEIGHT; sub++) this.#starts.push(2 + sublevelOffset(sub, this.width) * HASH_SIZE)
  }

  /** True when the record holds node `pos` of sublevel `sub`. */
  holds (sub: number, pos: number): boolean {
    return pos < Math.floor(this.width / 2 ** sub)
  }

  /** Node `pos` of sublevel `sub`; INTERNAL when the record is narrower than the tree it should serve. */
  node (sub: number, pos: number): Uint8Array {
    if (!this.holds(sub, pos)) throw corrupt('hash tile (narrower than its tree)')
    const at = this.#starts[sub]! + pos * HASH_SIZE
    return copyBytes(this.bytes, at, at + HASH_SIZE)
  }
}
