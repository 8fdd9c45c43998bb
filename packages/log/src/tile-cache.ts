/**
 * Reads of hash tile parts (tile-parts.ts) for proofs: the right edge's partial tiles from memory
 * (tree-edge.ts), full tiles' parts from their node records (node-records.ts), through two LRU caches sharing one
 * budget in bytes: one for the upper tree (crowns, and every part of tiles above level 0), which every
 * proof touches and which stays small (≈ 1/36 of the level-0 data), holding up to half of it; and one
 * for level-0 strips, which a proof of a random leaf rarely finds again, holding the rest. Level-0
 * churn thus never evicts the upper tree.
 *
 * Parts of full tiles never change; concurrent reads of one part share one file read. The OS page
 * cache holds what the caches do not.
 *
 * It is also the proofs' memo of right-edge subtree hashes (core's SubtreeMemo), for the latest
 * MEMO_SIZES tree sizes: every proof at one size whose path meets the right edge at one level needs the
 * same fold of the same pieces (random proofs at the latest size, receipts of one batch).
 */
import { HASH_SIZE, nodeHash, perfectSubtrees, type NodeId, type SubtreeMemo } from '@scitt/core'
import { corrupt } from './layout.js'
import type { NodeRecords } from './node-records.js'
import { CROWN, TilePart, encodePart, partWidth, placeOf, type NodePlace, type TileNodes } from './tile-parts.js'
import type { TreeEdge } from './tree-edge.js'

/** What a cached part costs beyond its bytes (Map entry, objects), roughly. */
const ENTRY_OVERHEAD = 200

/** Tree sizes whose right-edge subtree hashes are kept (at most 53 each). */
const MEMO_SIZES = 64

interface Cached {
  key: number
  part: TilePart
  /** Read since it was last passed by eviction (CLOCK, second chance: a hit costs no reordering). */
  used: boolean
}

/** An approximate LRU (CLOCK) bounded in bytes. */
class ByteLru {
  readonly #parts = new Map<number, Cached>()
  /** The cached parts from #hand on, oldest first: eviction takes from the front, inserts go to the back. */
  #queue: Cached[] = []
  #hand = 0
  #bytes = 0

  get bytes (): number {
    return this.#bytes
  }

  get (key: number): TilePart | undefined {
    const hit = this.#parts.get(key)
    if (hit === undefined) return undefined
    hit.used = true
    return hit.part
  }

  /**
   * Keeps the wider of the known and the new part (a read that raced with a write must not shrink it),
   * then evicts down to `capacity` bytes.
   */
  set (key: number, part: TilePart, capacity: number): TilePart {
    const known = this.#parts.get(key)
    if (known !== undefined) {
      if (known.part.width >= part.width) return known.part
      this.#bytes += cost(part) - cost(known.part)
      known.part = part
      known.used = true
    } else {
      const cached = { key, part, used: false }
      this.#parts.set(key, cached)
      this.#queue.push(cached)
      this.#bytes += cost(part)
    }
    this.trim(capacity)
    return part
  }

  trim (capacity: number): void {
    // Evict from the oldest end; a part read since it was inserted or passed gets a second chance.
    for (let passes = this.#parts.size; this.#bytes > capacity && passes >= 0; passes--) {
      const oldest = this.#queue[this.#hand++]!
      if (oldest.used && passes > 0) {
        oldest.used = false
        this.#queue.push(oldest)
      } else {
        this.#parts.delete(oldest.key)
        this.#bytes -= cost(oldest.part)
      }
    }
    if (this.#hand * 2 > this.#queue.length) {
      this.#queue = this.#queue.slice(this.#hand)
      this.#hand = 0
    }
  }

  clear (): void {
    this.#parts.clear()
    this.#queue = []
    this.#hand = 0
    this.#bytes = 0
  }
}

function cost (part: TilePart): number {
  return part.bytes.length + ENTRY_OVERHEAD
}

export class TileCache implements SubtreeMemo {
  readonly #records: NodeRecords
  readonly #budget: number
  readonly #upper = new ByteLru()
  readonly #lower = new ByteLru()
  /** MTH(D[begin:end]) by end, then begin; the oldest end goes first. */
  readonly #subtrees = new Map<number, Map<number, Uint8Array>>()
  /** Reads in flight, by cache key. */
  readonly #reading = new Map<number, Promise<TilePart>>()
  #edge: TreeEdge | undefined
  /** The edge's partial tiles as parts, by tile level, made when first read. */
  #edgeParts = new Map<number, { index: number, parts: Array<TilePart | undefined>, nodes: TileNodes }>()

  /** `bytes`: the budget, up to half for the upper tree and the rest for level-0 strips. */
  constructor (records: NodeRecords, bytes: number) {
    this.#records = records
    this.#budget = bytes
  }

  /** Adopts the tree's right edge: its partial tiles are read from it from now on. */
  setEdge (edge: TreeEdge): void {
    this.#edge = edge
    this.#edgeParts = new Map()
  }

  /** Records a full tile just stored (durably): its crown and upper-tree parts, and its level-0 strips. */
  remember (level: number, index: number, nodes: TileNodes): void {
    for (let part = 0; part <= CROWN; part++) this.#remember(level, index, part, new TilePart(part, encodePart(nodes, part)))
  }

  clear (): void {
    this.#upper.clear()
    this.#lower.clear()
    this.#subtrees.clear()
    this.#edge = undefined
    this.#edgeParts = new Map()
  }

  subtreeHash (begin: number, end: number): Uint8Array | undefined {
    return this.#subtrees.get(end)?.get(begin)
  }

  /**
   * Records the right-edge subtree hashes of the tree of `size` from its peaks (largest first, as a
   * CompactRange holds them): for each peak after the first, the right fold of it and the later ones,
   * i.e. MTH(D[begin:size]) from that peak's first leaf. Costs popcount(size)−2 node hashes.
   */
  rememberPeaks (size: number, peaks: readonly Uint8Array[]): void {
    const ids = perfectSubtrees(0, size)
    if (peaks.length !== ids.length) throw new RangeError(`a tree of size ${size} has ${ids.length} peaks, got ${peaks.length}`)
    let fold = peaks[peaks.length - 1]
    for (let k = peaks.length - 2; k >= 1; k--) {
      fold = nodeHash(peaks[k]!, fold!)
      this.rememberSubtree(ids[k]!.index * 2 ** ids[k]!.level, size, fold)
    }
  }

  rememberSubtree (begin: number, end: number, hash: Uint8Array): void {
    let atEnd = this.#subtrees.get(end)
    if (atEnd === undefined) {
      if (this.#subtrees.size >= MEMO_SIZES) this.#subtrees.delete(this.#subtrees.keys().next().value!)
      atEnd = new Map()
      this.#subtrees.set(end, atEnd)
    }
    atEnd.set(begin, hash)
  }

  /** The hashes of perfect nodes, in order (a NodeReader): fresh copies, never views of the cache. */
  async nodes (ids: readonly NodeId[]): Promise<Uint8Array[]> {
    const out = new Array<Uint8Array>(ids.length)
    /** Nodes not found in memory, by the part to read (one read per part). */
    let missing: Map<number, Array<{ i: number, place: NodePlace }>> | undefined
    for (let i = 0; i < ids.length; i++) {
      const place = placeOf(ids[i]!)
      const key = cacheKey(place.level, place.index, place.part)
      const hit = this.#edgePart(place) ?? this.#lru(place.level, place.part).get(key)
      const at = hit === undefined ? -1 : hit.offset(place.sub, place.pos)
      if (at >= 0) {
        out[i] = hit!.bytes.slice(at, at + HASH_SIZE)
        continue
      }
      missing ??= new Map()
      const nodes = missing.get(key)
      if (nodes === undefined) missing.set(key, [{ i, place }])
      else nodes.push({ i, place })
    }
    if (missing !== undefined) {
      await Promise.all([...missing.values()].map(async (nodes) => {
        const { level, index, part } = nodes[0]!.place
        const stored = await this.#read(level, index, part)
        for (const { i, place } of nodes) {
          const offset = stored.offset(place.sub, place.pos)
          if (offset < 0) throw corrupt(`hash tile ${level}/${index} part ${part} (narrower than its tree)`)
          out[i] = stored.bytes.slice(offset, offset + HASH_SIZE)
        }
      }))
    }
    return out
  }

  /** The part of the edge's partial tile that holds a node, when the node is in that tile. */
  #edgePart (place: NodePlace): TilePart | undefined {
    let partial = this.#edgeParts.get(place.level)
    if (partial === undefined) {
      const tile = this.#edge?.partialTile(place.level)
      if (tile === undefined) return undefined
      partial = { index: tile.index, parts: [], nodes: tile.nodes }
      this.#edgeParts.set(place.level, partial)
    }
    if (partial.index !== place.index) return undefined
    if (partWidth(place.part, partial.nodes[0]!.length) === 0) return undefined
    return (partial.parts[place.part] ??= new TilePart(place.part, encodePart(partial.nodes, place.part)))
  }

  #lru (level: number, part: number): ByteLru {
    return level > 0 || part === CROWN ? this.#upper : this.#lower
  }

  #remember (level: number, index: number, part: number, value: TilePart): TilePart {
    const key = cacheKey(level, index, part)
    if (this.#lru(level, part) === this.#lower) return this.#lower.set(key, value, this.#budget - this.#upper.bytes)
    const kept = this.#upper.set(key, value, this.#budget / 2)
    this.#lower.trim(this.#budget - this.#upper.bytes)
    return kept
  }

  /** A full tile's part from its node record; concurrent reads of one part share the read. */
  #read (level: number, index: number, part: number): Promise<TilePart> {
    const key = cacheKey(level, index, part)
    let reading = this.#reading.get(key)
    if (reading === undefined) {
      reading = this.#records.readPart(level, index, part).then((bytes) => {
        let stored: TilePart
        try {
          stored = new TilePart(part, bytes)
        } catch (cause) {
          throw corrupt(`node record of tile ${level}/${index} (missing or short)`, cause)
        }
        return this.#remember(level, index, part, stored)
      }).finally(() => { this.#reading.delete(key) })
      this.#reading.set(key, reading)
    }
    return reading
  }
}

/**
 * A number per (level, index, part), safe for every tile of a tree of up to 2^53 leaves: level-0 parts
 * (index < 2^45) map to [0, 2^49), parts above level 0 (index < 2^37) to negative numbers.
 */
function cacheKey (level: number, index: number, part: number): number {
  const inTile = index * (CROWN + 1) + part
  return level === 0 ? inTile : -(inTile * 64 + level) - 1
}
