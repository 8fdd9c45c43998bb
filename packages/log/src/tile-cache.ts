/**
 * Reads of hash tile records for proofs, through a bounded LRU cache. Proofs touch the upper tiles on
 * every call, so they stay cached; a level-0 tile is read once per proof of a cold leaf. Records only
 * grow (a wider record has the narrower one's nodes), so a cached record stays valid as long as it is
 * wide enough for the tree being proved; a narrower one is read again.
 */
import { TILE_HEIGHT, TILE_WIDTH, type NodeId } from '@scitt/core'
import type { LogDatabase } from './database.js'
import { corrupt, tileKey, VIEW } from './layout.js'
import { TileRecord } from './tile-record.js'

interface Place { key: string, level: number, index: number, sub: number, pos: number }

export class TileCache {
  readonly #db: LogDatabase
  readonly #capacity: number
  readonly #records = new Map<string, TileRecord>()

  constructor (db: LogDatabase, capacity: number) {
    this.#db = db
    this.#capacity = capacity
  }

  /** Records a tile just written (durably). */
  set (level: number, index: number, record: Uint8Array): void {
    this.#remember(`${level}/${index}`, new TileRecord(record))
  }

  clear (): void {
    this.#records.clear()
  }

  /** The stored record of tile (level, index), from the cache or the database; undefined when not stored. */
  async record (level: number, index: number): Promise<TileRecord | undefined> {
    const key = `${level}/${index}`
    const hit = this.#records.get(key)
    if (hit !== undefined) {
      this.#remember(key, hit)
      return hit
    }
    const value = await this.#db.get(tileKey(level, index), VIEW)
    if (value === undefined) return undefined
    return this.#remember(key, new TileRecord(value))
  }

  /** The hashes of perfect nodes, in order: one database read (getMany) for the tiles not cached. A NodeReader. */
  async nodes (ids: NodeId[]): Promise<Uint8Array[]> {
    const places: Place[] = []
    const found = new Map<string, TileRecord>()
    let missing: Place[] | undefined
    for (const { level: treeLevel, index: treeIndex } of ids) {
      const sub = treeLevel % TILE_HEIGHT
      const perTile = TILE_WIDTH / 2 ** sub
      const index = Math.floor(treeIndex / perTile)
      const level = (treeLevel - sub) / TILE_HEIGHT
      const place = { key: `${level}/${index}`, level, index, sub, pos: treeIndex - index * perTile }
      places.push(place)
      const hit = found.get(place.key) ?? this.#records.get(place.key)
      if (hit !== undefined && hit.holds(place.sub, place.pos)) found.set(place.key, hit)
      else (missing ??= []).push(place)
    }
    if (missing !== undefined) {
      const keys = [...new Map(missing.map((p) => [p.key, p])).values()]
      const values = await this.#db.getMany(keys.map((p) => tileKey(p.level, p.index)), VIEW)
      values.forEach((value, i) => {
        if (value === undefined) throw corrupt(`hash tile ${keys[i]!.key} (missing)`)
        found.set(keys[i]!.key, new TileRecord(value))
      })
    }
    for (const [key, record] of found) this.#remember(key, record)
    return places.map((p) => found.get(p.key)!.node(p.sub, p.pos))
  }

  /** Caches the wider of the known and the new record (a read that raced with a write must not shrink it). */
  #remember (key: string, record: TileRecord): TileRecord {
    const known = this.#records.get(key)
    const kept = known !== undefined && known.width > record.width ? known : record
    this.#records.delete(key)
    this.#records.set(key, kept)
    if (this.#records.size > this.#capacity) this.#records.delete(this.#records.keys().next().value!)
    return kept
  }
}
