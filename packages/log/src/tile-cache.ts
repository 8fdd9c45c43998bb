/**
 * Reads of hash tile parts (tile-parts.ts) for proofs and tiles, through two LRU caches sharing one
 * budget in bytes: one for the upper tree (crowns, and every part of tiles above level 0), which every
 * proof touches and which stays small (≈ 1/36 of the level-0 data), holding up to half of it; and one
 * for level-0 strips, which a proof of a random leaf rarely finds again, holding the rest. Level-0
 * churn thus never evicts the upper tree.
 *
 * Parts only grow (a wider part starts with the narrower one's hashes), so a cached part serves any
 * tree it is wide enough for; a narrower one is read again. Reads that miss are merged: while one
 * database read is in flight, the parts wanted by concurrent callers queue up and go in the next one.
 *
 * It is also the proofs' memo of right-edge subtree hashes (core's SubtreeMemo), for the latest
 * MEMO_SIZES tree sizes: every proof at one size whose path meets the right edge at one level needs the
 * same fold of the same pieces (random proofs at the latest size, receipts of one batch).
 */
import { HASH_SIZE, nodeHash, perfectSubtrees, type NodeId, type SubtreeMemo } from '@scitt/core'
import type { LogDatabase } from './database.js'
import { corrupt, tileKey, VIEW } from './layout.js'
import { CROWN, TilePart, placeOf, type NodePlace } from './tile-parts.js'

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

interface Wanted {
  level: number
  index: number
  part: number
  waiters: Array<{ resolve: (part: TilePart) => void, reject: (err: unknown) => void }>
}

export class TileCache implements SubtreeMemo {
  readonly #db: LogDatabase
  readonly #budget: number
  readonly #upper = new ByteLru()
  readonly #lower = new ByteLru()
  /** MTH(D[begin:end]) by end, then begin; the oldest end goes first. */
  readonly #subtrees = new Map<number, Map<number, Uint8Array>>()
  /** Parts to read in the next database read, by cache key. */
  #queue = new Map<number, Wanted>()
  #reading = false

  /** `bytes`: the budget, up to half for the upper tree and the rest for level-0 strips. */
  constructor (db: LogDatabase, bytes: number) {
    this.#db = db
    this.#budget = bytes
  }

  /** Records a tile part just written (durably). */
  set (level: number, index: number, part: number, bytes: Uint8Array): void {
    this.#remember(level, index, part, new TilePart(part, bytes))
  }

  clear (): void {
    this.#upper.clear()
    this.#lower.clear()
    this.#subtrees.clear()
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

  /**
   * Parts `parts` of tile (level, index), each at least as wide as `widths` says, from the cache or
   * one database read; INTERNAL when one is missing or narrower.
   */
  async parts (level: number, index: number, parts: readonly number[], widths: readonly number[]): Promise<TilePart[]> {
    return Promise.all(parts.map(async (part, i) => {
      const hit = this.#lru(level, part).get(cacheKey(level, index, part))
      const found = hit !== undefined && hit.width >= widths[i]! ? hit : await this.#read(level, index, part)
      if (found.width < widths[i]!) throw corrupt(`hash tile ${level}/${index} part ${part} (narrower than its tree)`)
      return found
    }))
  }

  /** The hashes of perfect nodes, in order (a NodeReader): fresh copies, never views of the cache. */
  async nodes (ids: readonly NodeId[]): Promise<Uint8Array[]> {
    const out = new Array<Uint8Array>(ids.length)
    /** Nodes not found in the cache, by the part to read (one read per part). */
    let missing: Map<number, Array<{ i: number, place: NodePlace }>> | undefined
    for (let i = 0; i < ids.length; i++) {
      const place = placeOf(ids[i]!)
      const key = cacheKey(place.level, place.index, place.part)
      const hit = this.#lru(place.level, place.part).get(key)
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

  /** A part from the database, read together with what concurrent callers want. */
  #read (level: number, index: number, part: number): Promise<TilePart> {
    return new Promise((resolve, reject) => {
      const key = cacheKey(level, index, part)
      let wanted = this.#queue.get(key)
      if (wanted === undefined) {
        wanted = { level, index, part, waiters: [] }
        this.#queue.set(key, wanted)
      }
      wanted.waiters.push({ resolve, reject })
      if (!this.#reading) void this.#flush()
    })
  }

  async #flush (): Promise<void> {
    this.#reading = true
    while (this.#queue.size > 0) {
      const batch = [...this.#queue.values()]
      this.#queue = new Map()
      try {
        const values = await this.#db.getMany(batch.map((w) => tileKey(w.level, w.index, w.part)), VIEW)
        batch.forEach((w, i) => {
          const value = values[i]
          try {
            if (value === undefined) throw corrupt(`hash tile ${w.level}/${w.index} part ${w.part} (missing)`)
            const part = this.#remember(w.level, w.index, w.part, new TilePart(w.part, value))
            for (const waiter of w.waiters) waiter.resolve(part)
          } catch (err) {
            for (const waiter of w.waiters) waiter.reject(err)
          }
        })
      } catch (err) {
        for (const w of batch) for (const waiter of w.waiters) waiter.reject(err)
      }
    }
    this.#reading = false
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
