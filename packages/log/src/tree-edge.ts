/**
 * The log's in-memory tree: the compact range (RFC 9162 peaks) plus the right edge of the tiles, i.e.
 * the partial hash tile at each tile level (with its inner nodes) and the partial entry bundle.
 * Everything to the left of the edge is only on disk. Its size is bounded: at most 255 entries and
 * 8 × 510 hashes, whatever the log's size.
 *
 * `extend` never mutates: it returns the next edge and what takes the disk there (the tree state for
 * the database, the static files, the node records of the tiles it fills), so a failed write leaves
 * the current edge untouched.
 */
import { CompactRange, TILE_WIDTH, TILE_HEIGHT, encodeEntryBundle, encodeHashTile, parseEntryBundle, parseHashTile } from '@scitt/core'
import { STATE_KEY, VIEW, copyBytes, corrupt, decodeTreeState, encodeTreeState } from './layout.js'
import type { NodeRecord } from './node-records.js'
import { MAX_WRITE_ENTRIES, staticPath, type StaticFile, type StaticTree } from './static-tree.js'
import { emptyTileNodes, nodesFromRow, type TileNodes } from './tile-parts.js'
import type { BatchPut, LogDatabase } from './database.js'

export interface Leaf {
  entry: Uint8Array
  leafHash: Uint8Array
}

/** One record of an integration's atomic database write. */
export type Put = BatchPut

/** A tile (or, for 'entries', a bundle) that a write filled: its partial versions may go. */
export interface Filled {
  level: number | 'entries'
  index: number
}

/** What one extension writes: the static files and node records first, then `puts` (the commit). */
export interface Extension {
  edge: TreeEdge
  puts: Put[]
  files: StaticFile[]
  records: NodeRecord[]
  filled: Filled[]
  /** The roots at the sizes asked for. */
  roots: Uint8Array[]
}

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

  /** The partial tile at `level` (index and nodes), if the tree has one there. */
  partialTile (level: number): { index: number, nodes: TileNodes } | undefined {
    const nodes = this.#tiles[level]
    if (nodes === undefined || nodes[0]!.length === 0) return undefined
    return { index: Math.floor(this.size / TILE_WIDTH ** (level + 1)), nodes }
  }

  /** The entries of the partial entry bundle (index ⌊size/256⌋); empty when the last bundle is full. */
  partialBundle (): readonly Uint8Array[] {
    return this.#bundle
  }

  /** Reads the tree state from the database and the right-edge tiles and bundle from the static files. */
  static async load (db: LogDatabase, tree: StaticTree): Promise<TreeEdge> {
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
      const path = staticPath(level, Math.floor(nodes / TILE_WIDTH), width)
      const bytes = await tree.read(path)
      if (bytes === undefined) throw corrupt(`partial tile ${path} (missing)`)
      try {
        tiles.push(nodesFromRow(parseHashTile(bytes, width).map((h) => copyBytes(h))))
      } catch (cause) {
        throw corrupt(`partial tile ${path}`, cause)
      }
    }
    let bundle: Uint8Array[] = []
    const width = size % TILE_WIDTH
    if (width > 0) {
      const path = staticPath('entries', Math.floor(size / TILE_WIDTH), width)
      const bytes = await tree.read(path)
      if (bytes === undefined) throw corrupt(`partial entry bundle ${path} (missing)`)
      try {
        bundle = parseEntryBundle(bytes, width).map((e) => copyBytes(e))
      } catch (cause) {
        throw corrupt(`partial entry bundle ${path}`, cause)
      }
    }
    return new TreeEdge(range, tiles, bundle)
  }

  /** The paths of the edge's files. */
  #edgePaths (): string[] {
    const paths: string[] = []
    this.#tiles.forEach((nodes, level) => {
      const width = nodes[0]!.length
      if (width > 0) paths.push(staticPath(level, Math.floor(this.size / TILE_WIDTH ** (level + 1)), width))
    })
    if (this.#bundle.length > 0) paths.push(staticPath('entries', Math.floor(this.size / TILE_WIDTH), this.#bundle.length))
    return paths
  }

  /** The files of the edge as stored: each partial tile and the partial bundle. */
  edgeFiles (): StaticFile[] {
    const files: StaticFile[] = []
    this.#tiles.forEach((nodes, level) => {
      const width = nodes[0]!.length
      if (width > 0) files.push({ path: staticPath(level, Math.floor(this.size / TILE_WIDTH ** (level + 1)), width), bytes: encodeHashTile(nodes[0]!) })
    })
    if (this.#bundle.length > 0) {
      files.push({ path: staticPath('entries', Math.floor(this.size / TILE_WIDTH), this.#bundle.length), bytes: encodeEntryBundle(this.#bundle) })
    }
    return files
  }

  /**
   * Appends leaves: the next edge and its writes — full tiles and bundles it fills (with the tiles'
   * node records), the partial tiles and bundle at each size in `rootsAt` and at the end (C2SP
   * serves the partials of every signed size), and the tree state — and the roots at the sizes
   * `rootsAt` asks for (ascending, within the new tree; a mirror compares each with the origin's
   * checkpoint of that size).
   */
  extend (leaves: readonly Leaf[], rootsAt: readonly number[] = []): Extension {
    if (leaves.length > MAX_WRITE_ENTRIES) throw new RangeError(`at most ${MAX_WRITE_ENTRIES} entries per write`)
    const range = this.range.clone()
    const tiles = this.#tiles.map((t) => t.map((s) => s.slice()))
    let bundle = this.#bundle.slice()
    const files: StaticFile[] = []
    const records: NodeRecord[] = []
    const filled: Filled[] = []
    const roots: Uint8Array[] = []
    /** Partial files by path: a later, wider one of the same tile is another path, a filled tile drops its own. */
    const partials = new Map<string, { filled: string, bytes: Uint8Array }>()
    let nextRoot = 0
    const onNode = (level: number, _index: number, hash: Uint8Array): void => {
      const tileLevel = Math.floor(level / TILE_HEIGHT)
      while (tiles.length <= tileLevel) tiles.push(emptyTileNodes())
      tiles[tileLevel]![level % TILE_HEIGHT]!.push(hash)
    }
    const snapshotPartials = (size: number): void => {
      tiles.forEach((nodes, level) => {
        const width = nodes[0]!.length
        if (width === 0) return
        const index = Math.floor(size / TILE_WIDTH ** (level + 1))
        partials.set(staticPath(level, index, width), { filled: staticPath(level, index, TILE_WIDTH), bytes: encodeHashTile(nodes[0]!) })
      })
      if (bundle.length > 0) {
        const index = Math.floor(size / TILE_WIDTH)
        partials.set(staticPath('entries', index, bundle.length), { filled: staticPath('entries', index, TILE_WIDTH), bytes: encodeEntryBundle(bundle) })
      }
    }
    while (rootsAt[nextRoot] === range.size) roots[nextRoot++] = range.root()
    const fullPaths = new Set<string>()
    for (const leaf of leaves) {
      range.append(leaf.leafHash, onNode)
      const size = range.size
      for (let level = 0; level < tiles.length && tiles[level]![0]!.length === TILE_WIDTH; level++) {
        const index = Math.floor(size / TILE_WIDTH ** (level + 1)) - 1
        const path = staticPath(level, index, TILE_WIDTH)
        files.push({ path, bytes: encodeHashTile(tiles[level]![0]!) })
        fullPaths.add(path)
        records.push({ level, index, nodes: tiles[level]! })
        filled.push({ level, index })
        tiles[level] = emptyTileNodes()
      }
      bundle.push(leaf.entry)
      if (bundle.length === TILE_WIDTH) {
        const index = size / TILE_WIDTH - 1
        const path = staticPath('entries', index, TILE_WIDTH)
        files.push({ path, bytes: encodeEntryBundle(bundle) })
        fullPaths.add(path)
        filled.push({ level: 'entries', index })
        bundle = []
      }
      while (rootsAt[nextRoot] === size) {
        roots[nextRoot++] = range.root()
        snapshotPartials(size)
      }
    }
    if (nextRoot !== rootsAt.length) throw new RangeError('rootsAt must be ascending sizes within the extended tree')
    if (leaves.length > 0) snapshotPartials(range.size)
    // A partial this tree already holds is committed: it is never written again.
    const held = new Set(this.#edgePaths())
    for (const [path, partial] of partials) {
      if (!fullPaths.has(partial.filled) && !held.has(path)) files.push({ path, bytes: partial.bytes })
    }
    const puts: Put[] = [{ type: 'put', key: STATE_KEY, value: encodeTreeState(range.size, range.peaks) }]
    return { edge: new TreeEdge(range, tiles, bundle), puts, files, records, filled, roots }
  }
}
