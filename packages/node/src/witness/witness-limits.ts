/**
 * Admission of add-checkpoint requests (C2SP tlog-witness leaves denial-of-service mitigation to the
 * witness): per client — its address over HTTP, its peer id over libp2p — a token bucket and a
 * bound on its requests in flight, and a bound on all requests in flight (admission.ts).
 * Checked before the body is read or parsed, so a refused request costs no memory for its body and
 * leaves no state: over `maxInFlight` the answer is 503 (the witness is busy), over the client's rate
 * or `maxInFlightPerClient` 429 (this client is sending too much), both with a Retry-After in seconds.
 * Memory is bounded: at most `rateLimit.maxClients` buckets and `maxInFlight` per-client counts.
 */
import { Admission } from '../admission.js'
import type { AddCheckpointLimitsConfig } from '../config.js'
import { refusal, type WitnessResponse } from './witness.js'

/** An admitted request holds a slot until `release` (idempotent); a refused one carries its answer. */
export type WitnessAdmission =
  | { admitted: true, release: () => void }
  | { admitted: false, answer: WitnessResponse & { status: 429 | 503 }, retryAfter: number }

const REASONS = {
  total: 'the witness has too many add-checkpoint requests in flight',
  requests: 'too many add-checkpoint requests in flight from this client',
  rate: 'add-checkpoint rate limit exceeded for this client',
} as const

export class WitnessLimits {
  readonly #admission: Admission

  /** `retryAfterSeconds` is sent with a 503 (limits.retryAfterSeconds); a 429 says when a token is due. */
  constructor (config: AddCheckpointLimitsConfig, retryAfterSeconds: number, now?: () => number) {
    this.#admission = new Admission(config, retryAfterSeconds, now)
  }

  /** Requests admitted and not yet released, in total and per client. */
  get inFlight (): { total: number, clients: number } {
    const { total, clients } = this.#admission.inFlight
    return { total, clients }
  }

  /** Admits one request of `client` or refuses it; a refusal takes no slot. */
  admit (client: string): WitnessAdmission {
    const admission = this.#admission.admit(client)
    if (admission.admitted) return { admitted: true, release: admission.release }
    const status = admission.scope === 'total' ? 503 : 429
    const reason = admission.scope === 'total' ? REASONS.total : admission.limit === 'rate' ? REASONS.rate : REASONS.requests
    return { admitted: false, answer: refusal(status, 'PUSHBACK', reason) as WitnessResponse & { status: 429 | 503 }, retryAfter: admission.retryAfter }
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
