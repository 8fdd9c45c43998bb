/**
 * The log's in-memory tree: the compact range (RFC 9162 peaks) plus the right edge of the tiles, i.e.
 * the partial hash tile at each tile level and the partial entry bundle. Everything to the left of the
 * edge is only on disk. Its size is bounded: at most 255 entries and 8 × 510 hashes, whatever the
 * log's size.
 *
 * `extend` never mutates: it returns the next edge and the writes that take the database there, so a
 * failed write leaves the current edge untouched.
 */
import { CompactRange, TILE_HEIGHT, TILE_WIDTH, encodeEntryBundle, parseEntryBundle } from '@scitt/core'
import { bundleKey, copyBytes, corrupt, encodeTreeState, STATE_KEY, tileKey, VIEW, decodeTreeState } from './layout.js'
import { TilePart, changedParts, emptyTileNodes, encodePart, partWidth, tileNodes, type TileNodes } from './tile-parts.js'
import type { BatchPut, LogDatabase } from './database.js'

export interface Leaf {
  entry: Uint8Array
  leafHash: Uint8Array
}

/** One record of an integration's atomic write. */
export type Put = BatchPut

export class TreeEdge {
  readonly range: CompactRange
  /** Partial tile nodes per tile level (empty sublevels where the tile has no partial). */
  readonly #tiles: TileNodes[]
  /** Entries of the partial entry bundle. */
  readonly #bundle: Uint8Array[]

  private constructor (range: CompactRange, tiles: TileNodes[], bundle: Uint8Array[]) {
    this.range = range
    this.#tiles = tiles
    this.#bundle = bundle
  }

  static empty (): TreeEdge {
    return new TreeEdge(CompactRange.empty(), [], [])
  }

  get size (): number {
    return this.range.size
  }

  /** Reads the tree state and the right-edge tiles and bundle from the database. */
  static async load (db: LogDatabase): Promise<TreeEdge> {
    const state = await db.get(STATE_KEY, VIEW)
    if (state === undefined) return TreeEdge.empty()
    const { size, peaks } = decodeTreeState(state)
    let range: CompactRange
    try {
      range = CompactRange.fromPeaks(size, peaks)
    } catch (cause) {
      throw corrupt('tree state', cause)
    }
    const tiles: TileNodes[] = []
    for (let level = 0; TILE_WIDTH ** level <= size; level++) {
      const nodes = Math.floor(size / TILE_WIDTH ** level)
      const width = nodes % TILE_WIDTH
      if (width === 0) {
        tiles.push(emptyTileNodes())
        continue
      }
      const index = Math.floor(nodes / TILE_WIDTH)
      const parts = changedParts(0, width)
      const values = await db.getMany(parts.map((part) => tileKey(level, index, part)), VIEW)
      tiles.push(tileNodes(values.map((value, i) => {
        const part = parts[i]!
        const stored = value === undefined ? undefined : new TilePart(part, value)
        if (stored === undefined || stored.width !== partWidth(part, width)) throw corrupt(`partial tile at level ${level}`)
        return stored
      })))
    }
    let bundle: Uint8Array[] = []
    const width = size % TILE_WIDTH
    if (width > 0) {
      const bytes = await db.get(bundleKey(Math.floor(size / TILE_WIDTH)), VIEW)
      if (bytes === undefined) throw corrupt('partial entry bundle (missing)')
      try {
        bundle = parseEntryBundle(bytes, width).map((e) => copyBytes(e))
      } catch (cause) {
        throw corrupt('partial entry bundle', cause)
      }
    }
    return new TreeEdge(range, tiles, bundle)
  }

  /** The records of the edge as stored: each partial tile, the partial bundle, the tree state. */
  edgeRecords (): Put[] {
    const size = this.size
    const puts: Put[] = []
    this.#tiles.forEach((nodes, level) => {
      puts.push(...tilePuts(level, Math.floor(size / TILE_WIDTH ** (level + 1)), nodes, 0))
    })
    if (this.#bundle.length > 0) puts.push({ type: 'put', key: bundleKey(Math.floor(size / TILE_WIDTH)), value: encodeEntryBundle(this.#bundle) })
    puts.push({ type: 'put', key: STATE_KEY, value: encodeTreeState(size, this.range.peaks) })
    return puts
  }

  /**
   * Appends leaves: the next edge, the puts (full and partial tiles and bundles that changed, and the
   * tree state) that store it, and the roots at the sizes `rootsAt` asks for (ascending, within the
   * new tree; a mirror compares each with the origin's checkpoint of that size).
   */
  extend (leaves: readonly Leaf[], rootsAt: readonly number[] = []): { edge: TreeEdge, puts: Put[], roots: Uint8Array[] } {
    const range = this.range.clone()
    const tiles = this.#tiles.map((t) => t.map((s) => s.slice()))
    let bundle = this.#bundle.slice()
    const puts: Put[] = []
    const roots: Uint8Array[] = []
    let nextRoot = 0
    while (rootsAt[nextRoot] === range.size) roots[nextRoot++] = range.root()
    /** Per tile level that changed: the width its partial tile had before (its parts from there on are new). */
    const dirty = new Map<number, number>()
    const onNode = (level: number, _index: number, hash: Uint8Array): void => {
      const tileLevel = Math.floor(level / TILE_HEIGHT)
      while (tiles.length <= tileLevel) tiles.push(emptyTileNodes())
      const nodes = tiles[tileLevel]!
      if (!dirty.has(tileLevel)) dirty.set(tileLevel, nodes[0]!.length)
      nodes[level % TILE_HEIGHT]!.push(hash)
    }
    for (const leaf of leaves) {
      range.append(leaf.leafHash, onNode)
      const size = range.size
      for (let level = 0; level < tiles.length && tiles[level]![0]!.length === TILE_WIDTH; level++) {
        puts.push(...tilePuts(level, Math.floor(size / TILE_WIDTH ** (level + 1)) - 1, tiles[level]!, dirty.get(level) ?? 0))
        tiles[level] = emptyTileNodes()
        dirty.delete(level)
      }
      bundle.push(leaf.entry)
      if (bundle.length === TILE_WIDTH) {
        puts.push({ type: 'put', key: bundleKey(size / TILE_WIDTH - 1), value: encodeEntryBundle(bundle) })
        bundle = []
      }
      while (rootsAt[nextRoot] === size) roots[nextRoot++] = range.root()
    }
    if (nextRoot !== rootsAt.length) throw new RangeError('rootsAt must be ascending sizes within the extended tree')
    const size = range.size
    for (const [level, from] of dirty) {
      puts.push(...tilePuts(level, Math.floor(size / TILE_WIDTH ** (level + 1)), tiles[level]!, from))
    }
    if (bundle.length > 0 && leaves.length > 0) {
      puts.push({ type: 'put', key: bundleKey(Math.floor(size / TILE_WIDTH)), value: encodeEntryBundle(bundle) })
    }
    puts.push({ type: 'put', key: STATE_KEY, value: encodeTreeState(size, range.peaks) })
    return { edge: new TreeEdge(range, tiles, bundle), puts, roots }
  }
}

/** The puts of the parts of tile (level, index) that hold its nodes at positions `from` and beyond. */
function tilePuts (level: number, index: number, nodes: TileNodes, from: number): Put[] {
  return changedParts(from, nodes[0]!.length).map((part) => ({ type: 'put', key: tileKey(level, index, part), value: encodePart(nodes, part) }))
}
