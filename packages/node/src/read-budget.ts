/**
 * The budget of log-data reads (tiles, entry bundles, checkpoints; config.ts `limits.read`), one per
 * transport: per client (address over HTTP, peer id over libp2p) and in total, requests in flight and
 * the bytes they hold are bounded (admission.ts), and the store reads and gzip compressions they run
 * share `maxConcurrentWork` slots, so that a flood of reads can neither take the memory nor the libuv
 * thread pool that registration needs. A read reserves the most its answer can take before anything
 * is read (`reservation`), then holds its actual size until its answer has been sent.
 */
import { TILE_WIDTH } from '@scitt/core'
import { Admission, type Ticket } from './admission.js'
import type { ReadLimitsConfig } from './config.js'
import { MAX_LOG_DATA_ANSWER } from './federation/log-data.js'

/** What a read serves, for its reservation. */
export type ReadKind =
  /** A hash tile: at most 256 hashes. */
  | 'tile'
  /** One entry bundle, an `entry-bundles/<N>/<K>` or a `checkpoints/<size>` answer: up to the log-data answer limit. */
  | 'data'
  /** Something the node already holds in memory (a checkpoint note, a descriptor): nothing to reserve. */
  | 'held'

/** The most a read can reserve (a maximal answer and its gzip output); the least `limits.read` byte bounds may be. */
export const MAX_READ_RESERVATION = 2 * MAX_LOG_DATA_ANSWER

/** The bytes a read of `kind` reserves until it has been read: its largest answer, twice that when it is gzipped. */
export function reservation (kind: ReadKind, gzip: boolean): number {
  const body = kind === 'tile' ? 32 * TILE_WIDTH : kind === 'data' ? MAX_LOG_DATA_ANSWER : 0
  return gzip ? 2 * body : body
}

export type ReadAdmission =
  | { admitted: true, ticket: Ticket }
  | { admitted: false, status: 429 | 503, reason: string, retryAfter: number }

const REASONS = {
  rate: 'read rate limit exceeded for this client',
  requests: 'too many reads in flight from this client',
  bytes: 'this client\'s reads in flight hold too many bytes',
  total: 'the node has too many reads in flight',
} as const

export class ReadBudget {
  readonly #admission: Admission
  readonly #maxWork: number
  #working = 0
  readonly #waiting: Array<() => void> = []

  /** `retryAfterSeconds` is sent with a 503 (limits.retryAfterSeconds); a rate refusal says when a token is due. */
  constructor (config: ReadLimitsConfig, retryAfterSeconds: number, now?: () => number) {
    this.#admission = new Admission({
      rateLimit: config.rateLimit,
      maxInFlight: config.maxInFlight,
      maxInFlightPerClient: config.maxInFlightPerClient,
      maxBytes: config.maxBytesInFlight,
      maxBytesPerClient: config.maxBytesPerClient,
    }, retryAfterSeconds, now)
    this.#maxWork = config.maxConcurrentWork
  }

  /** Reads admitted and not yet released, their clients and bytes; work running and waiting. */
  get inFlight (): { total: number, clients: number, bytes: number, working: number, waiting: number } {
    return { ...this.#admission.inFlight, working: this.#working, waiting: this.#waiting.length }
  }

  /** Admits a read of `client` reserving `bytes` (`reservation`), or refuses it: 429 for the client's limits, 503 for the node's. */
  admit (client: string, bytes: number): ReadAdmission {
    const a = this.#admission.admit(client, bytes)
    if (a.admitted) return { admitted: true, ticket: a }
    return { admitted: false, status: a.scope === 'total' ? 503 : 429, reason: a.scope === 'total' ? REASONS.total : REASONS[a.limit], retryAfter: a.retryAfter }
  }

  /** Runs `fn` (a store read, a compression) when one of the `maxConcurrentWork` slots is free, first come first served. */
  async work<T> (fn: () => Promise<T>): Promise<T> {
    if (this.#working >= this.#maxWork) await new Promise<void>((resolve) => { this.#waiting.push(resolve) })
    else this.#working++
    try {
      return await fn()
    } finally {
      const next = this.#waiting.shift()
      if (next !== undefined) next() // the slot passes on: #working stays
      else this.#working--
    }
  }
}
