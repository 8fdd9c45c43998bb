/**
 * A witness's state (C2SP tlog-witness): per origin, the latest checkpoint it cosigned (size, root and
 * the log-signed note), moved forward only by compare-and-swap. `update` runs check-then-store under a
 * per-origin lock, so two concurrent requests cannot roll the state back, and the new state is on disk
 * (sync) before the caller answers.
 *
 * Memory is bounded by the origins with a stored state: only states that exist are cached (an absent
 * one is read again), and a lock lasts only while updates for its origin are pending. A state is only
 * ever stored for an origin the witness cosigned, that is one with a trusted log key, so requests
 * naming other origins leave nothing behind.
 */
import { concatBytes, fromUtf8, readU64be, u64be, utf8, HASH_SIZE } from '@scitt/core'
import { STORE_KEYS } from '../store-layout.js'
import type { FederationDb } from './store.js'

export interface WitnessState {
  size: number
  rootHash: Uint8Array
  /** The log-signed checkpoint note the state comes from (evidence if the log later equivocates). */
  note: string
}

function encode (state: WitnessState): Uint8Array {
  return concatBytes(u64be(state.size), state.rootHash, utf8(state.note))
}

function decode (bytes: Uint8Array): WitnessState {
  return { size: readU64be(bytes, 0), rootHash: bytes.slice(8, 8 + HASH_SIZE), note: fromUtf8(bytes.subarray(8 + HASH_SIZE)) }
}

export class WitnessStore {
  readonly #db: FederationDb
  readonly #sync: boolean
  readonly #cache = new Map<string, WitnessState>()
  readonly #locks = new Map<string, Promise<unknown>>()

  constructor (db: FederationDb, options: { sync?: boolean } = {}) {
    this.#db = db
    this.#sync = options.sync ?? true
  }

  /** What the store holds in memory: cached states and origins with a pending update. */
  get footprint (): { cached: number, locks: number } {
    return { cached: this.#cache.size, locks: this.#locks.size }
  }

  async get (origin: string): Promise<WitnessState | undefined> {
    const cached = this.#cache.get(origin)
    if (cached !== undefined) return cached
    const bytes = await this.#db.get(STORE_KEYS.witnessState(origin))
    if (bytes === undefined) return undefined
    const state = decode(bytes)
    this.#cache.set(origin, state)
    return state
  }

  /**
   * Compare-and-swap: `decide` sees the current state and returns the new one (persisted before
   * `update` resolves) or undefined to keep it; its result is passed through. Calls for one origin run
   * one at a time; the origin's lock is gone once the last of them has settled.
   */
  async update<T> (origin: string, decide: (current: WitnessState | undefined) => { next?: WitnessState, result: T }): Promise<T> {
    const run = async (): Promise<T> => {
      const current = await this.get(origin)
      const { next, result } = decide(current)
      if (next !== undefined) {
        await this.#db.put(STORE_KEYS.witnessState(origin), encode(next), { sync: this.#sync })
        this.#cache.set(origin, next)
      }
      return result
    }
    const previous = this.#locks.get(origin) ?? Promise.resolve()
    const done = previous.then(run)
    const tail = done.catch(() => {})
    this.#locks.set(origin, tail)
    try {
      return await done
    } finally {
      if (this.#locks.get(origin) === tail) this.#locks.delete(origin)
    }
  }
}
