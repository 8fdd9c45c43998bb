/**
 * Admission of add-checkpoint requests (C2SP tlog-witness leaves denial-of-service mitigation to the
 * witness): per client — its address over HTTP, its peer id over libp2p — a token bucket
 * (`RateLimiter`) and a bound on its requests in flight, and a bound on all requests in flight.
 * Checked before the body is read or parsed, so a refused request costs no memory for its body and
 * leaves no state: over `maxInFlight` the answer is 503 (the witness is busy), over the client's rate
 * or `maxInFlightPerClient` 429 (this client is sending too much), both with a Retry-After in seconds.
 * Memory is bounded: at most `rateLimit.maxClients` buckets and `maxInFlight` per-client counts.
 */
import type { AddCheckpointLimitsConfig } from '../config.js'
import { RateLimiter } from '../rate-limit.js'
import { refusal, type WitnessResponse } from './witness.js'

/** An admitted request holds a slot until `release` (idempotent); a refused one carries its answer. */
export type Admission =
  | { admitted: true, release: () => void }
  | { admitted: false, answer: WitnessResponse & { status: 429 | 503 }, retryAfter: number }

export class WitnessLimits {
  readonly #config: AddCheckpointLimitsConfig
  readonly #retryAfter: number
  readonly #rate: RateLimiter | undefined
  /** Requests in flight per client; a client leaves the map when its last request is released. */
  readonly #perClient = new Map<string, number>()
  #inFlight = 0

  /** `retryAfterSeconds` is sent with a 503 (limits.retryAfterSeconds); a 429 says when a token is due. */
  constructor (config: AddCheckpointLimitsConfig, retryAfterSeconds: number, now?: () => number) {
    this.#config = config
    this.#retryAfter = retryAfterSeconds
    this.#rate = config.rateLimit === null ? undefined : new RateLimiter(config.rateLimit, now)
  }

  /** Requests admitted and not yet released, in total and per client. */
  get inFlight (): { total: number, clients: number } {
    return { total: this.#inFlight, clients: this.#perClient.size }
  }

  /** Admits one request of `client` or refuses it; a refusal takes no slot. */
  admit (client: string): Admission {
    if (this.#inFlight >= this.#config.maxInFlight) {
      return { admitted: false, answer: busy(503, 'PUSHBACK', 'the witness has too many add-checkpoint requests in flight'), retryAfter: this.#retryAfter }
    }
    const own = this.#perClient.get(client) ?? 0
    if (own >= this.#config.maxInFlightPerClient) {
      return { admitted: false, answer: busy(429, 'PUSHBACK', 'too many add-checkpoint requests in flight from this client'), retryAfter: this.#retryAfter }
    }
    const wait = this.#rate?.take(client) ?? 0
    if (wait > 0) return { admitted: false, answer: busy(429, 'PUSHBACK', 'add-checkpoint rate limit exceeded for this client'), retryAfter: wait }
    this.#inFlight++
    this.#perClient.set(client, own + 1)
    let released = false
    return {
      admitted: true,
      release: () => {
        if (released) return
        released = true
        this.#inFlight--
        const left = (this.#perClient.get(client) ?? 1) - 1
        if (left > 0) this.#perClient.set(client, left)
        else this.#perClient.delete(client)
      },
    }
  }

  /** Runs `work` for an admitted request and releases its slot after; a refusal is answered without running it. */
  async run (client: string, work: () => Promise<WitnessResponse>): Promise<WitnessResponse> {
    const admission = this.admit(client)
    if (!admission.admitted) return admission.answer
    try {
      return await work()
    } finally {
      admission.release()
    }
  }
}

function busy (status: 429 | 503, code: 'PUSHBACK', reason: string): WitnessResponse & { status: 429 | 503 } {
  return refusal(status, code, reason) as WitnessResponse & { status: 429 | 503 }
}
