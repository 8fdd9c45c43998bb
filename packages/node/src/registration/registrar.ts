/**
 * Registrations between a checked statement and its durable integration: one promise per entry id
 * (a statement posted twice while pending shares it), so `GET /entries/{id}` can answer 202 while an
 * entry is pending and shutdown can wait for every pending registration.
 */
import type { Appended, Log } from '@scitt/log'
import type { Logger } from '../logger.js'
import type { NodeMetrics } from '../metrics.js'

export class Registrar {
  readonly #pending = new Map<string, Promise<Appended>>()

  constructor (readonly log: Log, readonly metrics: NodeMetrics, readonly logger: Logger) {}

  get pending (): number {
    return this.#pending.size
  }

  isPending (entryId: string): boolean {
    return this.#pending.has(entryId)
  }

  /** Appends an entry (PUSHBACK from the log when it is overloaded); resolves once it is durable. */
  submit (entry: Uint8Array, entryId: string): Promise<Appended> {
    const known = this.#pending.get(entryId)
    if (known !== undefined) return known
    const started = performance.now()
    const promise = this.log.add(entry)
    this.#pending.set(entryId, promise)
    promise.then(
      () => { this.metrics.integrationSeconds.observe((performance.now() - started) / 1000) },
      (err: unknown) => {
        const code = (err as { code?: string }).code
        if (code !== 'PUSHBACK') this.logger.error({ err, entryId }, 'integration failed')
      },
    ).finally(() => { this.#pending.delete(entryId) })
    return promise
  }

  /** Waits until every registration submitted so far has settled. */
  async drain (): Promise<void> {
    while (this.#pending.size > 0) await Promise.allSettled([...this.#pending.values()])
  }
}
