/**
 * Registrations between a checked statement and its durable integration: one promise per entry id
 * (a statement posted twice while pending shares it), so `GET /entries/{id}` can answer 202 while an
 * entry is pending and shutdown can wait for every pending registration. `within` bounds the wait of
 * a POST: every wait has the same length, so the waits expire in the order they began and one timer
 * serves them all (no timer per request).
 */
import { ScittError } from '@scitt/core'
import type { Appended, Log } from '@scitt/log'
import type { Halt } from '../history-guard.js'
import type { Logger } from '../logger.js'
import type { NodeMetrics } from '../metrics.js'

interface Wait {
  deadline: number
  /** Undefined once settled. */
  expire: (() => void) | undefined
}

export class Registrar {
  readonly #pending = new Map<string, Promise<Appended>>()
  readonly #waitMs: number
  /** Waits in the order they began (so in deadline order); settled ones are skipped. */
  #waits: Wait[] = []
  #head = 0
  #timer: ReturnType<typeof setTimeout> | undefined

  /** `halted`: why the node must not sign (history-guard.ts); every submission is refused meanwhile. */
  constructor (readonly log: Log, readonly metrics: NodeMetrics, readonly logger: Logger, waitMs: number, readonly halted: () => Halt | undefined = () => undefined) {
    this.#waitMs = waitMs
  }

  get pending (): number {
    return this.#pending.size
  }

  isPending (entryId: string): boolean {
    return this.#pending.has(entryId)
  }

  /** Appends an entry (PUSHBACK from the log when it is overloaded, or while halted); resolves once it is durable. */
  submit (entry: Uint8Array, entryId: string): Promise<Appended> {
    const halt = this.halted()
    if (halt !== undefined) return Promise.reject(new ScittError('PUSHBACK', `registrations are halted: ${halt.reason}`, { details: { title: 'Registrations halted' } }))
    const known = this.#pending.get(entryId)
    if (known !== undefined) return known
    const started = performance.now()
    const promise = this.log.add(entry)
    this.#pending.set(entryId, promise)
    promise.then(
      () => {
        this.#pending.delete(entryId)
        this.metrics.integrationSeconds.observe((performance.now() - started) / 1000)
      },
      (err: unknown) => {
        this.#pending.delete(entryId)
        const code = (err as { code?: string }).code
        if (code !== 'PUSHBACK') this.logger.error({ err, entryId }, 'integration failed')
      },
    )
    return promise
  }

  /** The registration's outcome, or undefined when it is not settled within the configured wait. */
  within (appended: Promise<Appended>): Promise<Appended | undefined> {
    return new Promise((resolve, reject) => {
      const wait: Wait = { deadline: performance.now() + this.#waitMs, expire: () => resolve(undefined) }
      this.#waits.push(wait)
      this.#arm()
      appended.then(
        (value) => { wait.expire = undefined; resolve(value) },
        (err: unknown) => { wait.expire = undefined; reject(err) },
      )
    })
  }

  #arm (): void {
    if (this.#timer !== undefined) return
    const first = this.#waits[this.#head]
    if (first === undefined) return
    this.#timer = setTimeout(() => {
      this.#timer = undefined
      const now = performance.now()
      let next = this.#waits[this.#head]
      while (next !== undefined && (next.expire === undefined || next.deadline <= now)) {
        next.expire?.()
        this.#head++
        next = this.#waits[this.#head]
      }
      if (this.#head > 1024 && this.#head * 2 > this.#waits.length) {
        this.#waits = this.#waits.slice(this.#head)
        this.#head = 0
      }
      this.#arm()
    }, Math.max(0, first.deadline - performance.now()))
    this.#timer.unref() // a wait matters only while its request (and its socket) is open
  }

  /** Waits until every registration submitted so far has settled. */
  async drain (): Promise<void> {
    while (this.#pending.size > 0) await Promise.allSettled([...this.#pending.values()])
  }
}
