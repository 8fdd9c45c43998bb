/**
 * Cross-registration (docs/architecture.md "Data flows"): the entries of a mirrored origin that pass
 * this node's own registration policy (the same checks as POST /entries, on the verify workers) are
 * registered into this node's own log too, so the statement gains this node's receipt beside the
 * origin's. A cursor per origin (the next mirrored index to consider) is kept in the federation store
 * and advanced only after every entry before it is durable in the own log or was refused by the
 * policy, so a crash repeats work (the log deduplicates) and never skips any.
 */
import { TILE_WIDTH, isScittError, parseEntryBundle, readU64be, u64be } from '@scitt/core'
import type { Logger } from '../logger.js'
import type { Registrar } from '../registration/registrar.js'
import type { VerifyPool } from '../registration/verify-pool.js'
import { STORE_KEYS } from '../store-layout.js'
import type { FederationDb } from '../witness/store.js'
import type { MirrorMetrics } from './metrics.js'
import type { Mirror } from './mirror.js'

export interface CrossRegistrationOptions {
  mirror: Mirror
  pool: VerifyPool
  registrar: Registrar
  store: FederationDb
  logger: Logger
  metrics?: MirrorMetrics
  /** Wait before retrying when the own log pushes back or a check fails inside this node (ms, default 1000). */
  pushbackMs?: number
}


export class CrossRegistration {
  readonly origin: string
  readonly #o: CrossRegistrationOptions
  #cursor = 0
  #running: Promise<void> | undefined
  #again = false
  #stopped = false
  #unsubscribe: (() => void) | undefined

  private constructor (o: CrossRegistrationOptions) {
    this.#o = o
    this.origin = o.mirror.origin
  }

  static async start (o: CrossRegistrationOptions): Promise<CrossRegistration> {
    const c = new CrossRegistration(o)
    const stored = await o.store.get(STORE_KEYS.crossRegisterCursor(c.origin))
    c.#cursor = stored === undefined ? 0 : readU64be(stored)
    c.#unsubscribe = o.mirror.log.onCheckpoint(() => { c.#schedule() })
    c.#schedule()
    return c
  }

  /** The next mirrored index to consider. */
  get cursor (): number {
    return this.#cursor
  }

  async stop (): Promise<void> {
    this.#stopped = true
    this.#unsubscribe?.()
    while (this.#running !== undefined) await this.#running
  }

  #schedule (): void {
    if (this.#stopped) return
    this.#again = true
    this.#running ??= this.#run().catch((err: unknown) => {
      this.#o.logger.error({ origin: this.origin, err: (err as Error).message }, 'cross-registration stopped; it resumes on the next checkpoint')
    }).finally(() => { this.#running = undefined })
  }

  async #run (): Promise<void> {
    while (this.#again && !this.#stopped) {
      this.#again = false
      while (!this.#stopped && this.#cursor < this.#o.mirror.size) await this.#bundle()
    }
  }

  /** Considers the entries of the bundle holding the cursor, then advances the cursor past them. */
  async #bundle (): Promise<void> {
    const size = this.#o.mirror.size
    const index = Math.floor(this.#cursor / TILE_WIDTH)
    const width = Math.min(TILE_WIDTH, size - index * TILE_WIDTH)
    const entries = parseEntryBundle(await this.#o.mirror.log.entryBundle(index, width), width).slice(this.#cursor - index * TILE_WIDTH)
    for (;;) {
      const outcomes = await Promise.all(entries.map(async (entry) => this.#consider(entry)))
      if (!outcomes.includes('pushback') || this.#stopped) {
        for (const outcome of outcomes) this.#o.metrics?.crossRegistered.inc({ origin: this.origin, outcome })
        break
      }
      await new Promise((resolve) => setTimeout(resolve, this.#o.pushbackMs ?? 1000)) // the registered ones are deduplicated
    }
    if (this.#stopped) return
    const next = index * TILE_WIDTH + width
    await this.#o.store.put(STORE_KEYS.crossRegisterCursor(this.origin), u64be(next), { sync: true })
    this.#cursor = next
  }

  async #consider (entry: Uint8Array): Promise<'registered' | 'refused' | 'pushback'> {
    let checked
    try {
      checked = await this.#o.pool.check(entry)
    } catch (err) {
      if (isScittError(err, 'PUSHBACK')) return 'pushback'
      if (!isScittError(err) || err.code === 'INTERNAL') {
        // Not a verdict on the entry: it is tried again, never skipped.
        this.#o.logger.warn({ origin: this.origin, err: (err as Error).message }, 'cross-registration: the check failed; retrying')
        return 'pushback'
      }
      this.#o.logger.debug({ origin: this.origin, err: (err as Error).message }, 'cross-registration: refused by the registration policy')
      return 'refused'
    }
    try {
      await this.#o.registrar.submit(checked.entry, checked.entryId)
      return 'registered'
    } catch (err) {
      if (isScittError(err, 'PUSHBACK')) return 'pushback'
      throw err
    }
  }
}
