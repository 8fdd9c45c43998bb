/**
 * Sequencing: the queue of entries waiting for integration. It deduplicates by entry id among the
 * entries not yet integrated (a second `add` shares the first one's promise), refuses work past a
 * bound (PUSHBACK), and hands batches to the integrator one at a time, when a batch is full or its
 * oldest entry is `batchAgeMs` old.
 */
import { ScittError, leafHash, toHex } from '@scitt/core'

import { copyBytes } from './layout.js'

/** What `add` resolves with once the entry is durable and covered by a persisted checkpoint. */
export interface Appended {
  index: number
  entryId: string
}

export interface Pending {
  entry: Uint8Array
  leafHash: Uint8Array
  entryId: string
  since: number
  /** The entry's index if it is already in the log: looked up when it is added, while earlier batches are being written. */
  known: Promise<number | undefined>
  resolve: (value: Appended) => void
  reject: (err: unknown) => void
  promise: Promise<Appended>
}

export interface SequencerOptions {
  batchSize: number
  batchAgeMs: number
  maxPending: number
}

/** Integrates one batch; it settles every entry of the batch itself and never rejects. */
export type Integrate = (batch: Pending[]) => Promise<void>

/** Looks up leaf hashes in the log's entry-id index: the first index of each, or undefined. */
export type LookUp = (leafHashes: Uint8Array[]) => Promise<Array<number | undefined>>

export class Sequencer {
  readonly #options: SequencerOptions
  readonly #integrate: Integrate
  /** Every entry added and not yet settled, by entry id: queued or being integrated. */
  readonly #pending = new Map<string, Pending>()
  #queue: Pending[] = []
  #running: Promise<void> | undefined
  #timer: ReturnType<typeof setTimeout> | undefined
  #draining = false

  readonly #lookUp: LookUp
  /** Entries added in this tick, looked up together at its end. */
  #unlooked: Array<{ leafHash: Uint8Array, found: (index: Promise<number | undefined>) => void }> = []

  constructor (options: SequencerOptions, integrate: Integrate, lookUp: LookUp) {
    this.#options = options
    this.#integrate = integrate
    this.#lookUp = lookUp
  }

  /** True when a full batch is queued, so the integrator will be called again at once. */
  get fullBatchQueued (): boolean {
    return this.#queue.length >= this.#options.batchSize
  }

  /** Entries added and not yet settled. */
  get pending (): number {
    return this.#pending.size
  }

  add (entry: Uint8Array): Promise<Appended> {
    const hash = leafHash(entry)
    const entryId = toHex(hash)
    const shared = this.#pending.get(entryId)
    if (shared !== undefined) return shared.promise
    if (this.#pending.size >= this.#options.maxPending) {
      return Promise.reject(new ScittError('PUSHBACK', `${this.#pending.size} entries are pending integration; try again later`, {
        details: { pending: this.#pending.size },
      }))
    }
    // Settling removes the entry from the pending set first, so that an `add` made in reaction to the
    // outcome (e.g. a retry after a failure) is new work, not the settled promise again.
    let resolve!: Pending['resolve']
    let reject!: Pending['reject']
    const promise = new Promise<Appended>((res, rej) => {
      resolve = (value) => { this.#pending.delete(entryId); res(value) }
      reject = (err) => { this.#pending.delete(entryId); rej(err) }
    })
    const known = new Promise<number | undefined>((found) => {
      if (this.#unlooked.length === 0) queueMicrotask(() => this.#lookUpAdded())
      this.#unlooked.push({ leafHash: hash, found })
    })
    known.catch(() => {}) // a failed look-up fails the entry's integration, which awaits it
    const pending: Pending = { entry: copyBytes(entry), leafHash: hash, entryId, known, since: performance.now(), resolve, reject, promise }
    this.#pending.set(entryId, pending)
    this.#queue.push(pending)
    this.#schedule()
    return promise
  }

  /** Integrates everything queued now, without waiting for batch age, and waits for it. */
  async drain (): Promise<void> {
    this.#draining = true
    try {
      this.#schedule()
      while (this.#running !== undefined) await this.#running
    } finally {
      this.#draining = false
    }
  }

  #lookUpAdded (): void {
    const added = this.#unlooked
    this.#unlooked = []
    const indexes = this.#lookUp(added.map((a) => a.leafHash))
    added.forEach((a, i) => a.found(indexes.then((all) => all[i])))
  }

  #schedule (): void {
    if (this.#running !== undefined || this.#queue.length === 0) return
    const age = performance.now() - this.#queue[0]!.since
    if (this.#draining || this.#queue.length >= this.#options.batchSize || age >= this.#options.batchAgeMs) {
      this.#running = this.#run()
    } else if (this.#timer === undefined) {
      this.#timer = setTimeout(() => {
        this.#timer = undefined
        this.#schedule()
      }, Math.max(0, this.#options.batchAgeMs - age))
    }
  }

  async #run (): Promise<void> {
    clearTimeout(this.#timer)
    this.#timer = undefined
    const batch = this.#queue.splice(0, this.#options.batchSize)
    try {
      await this.#integrate(batch)
    } catch (err) {
      for (const p of batch) p.reject(err)
    } finally {
      this.#running = undefined
      this.#schedule()
    }
  }
}
