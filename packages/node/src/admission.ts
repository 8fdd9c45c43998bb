/**
 * Admission of requests per client and in total, checked before any work is done: per client a token
 * bucket (`RateLimiter`), a bound on its requests in flight and on the bytes they hold; in total a
 * bound on requests in flight and on bytes. A refusal takes nothing and says whose limit it hit:
 * `client` (the caller answers 429: this client sends too much) or `total` (503: the node is busy),
 * with the seconds to wait. An admitted request holds its slot and its bytes until `release`
 * (idempotent); `hold` changes the bytes it holds (a reservation made before a read becomes the size
 * actually read). Memory is bounded: at most `rateLimit.maxClients` buckets and `maxInFlight`
 * per-client entries.
 */
import type { RateLimitConfig } from './config.js'
import { RateLimiter } from './rate-limit.js'

export interface AdmissionLimits {
  /** Token bucket per client; null: none. */
  rateLimit: RateLimitConfig | null
  maxInFlight: number
  maxInFlightPerClient: number
  /** Bytes held by all admitted requests at once; undefined: not counted. */
  maxBytes?: number
  /** Bytes held by one client's admitted requests at once; undefined: not counted. */
  maxBytesPerClient?: number
}

export interface Ticket {
  admitted: true
  /** Frees the slot and its bytes; later calls do nothing. */
  release: () => void
  /** Sets the bytes this request holds (no effect once released). */
  hold: (bytes: number) => void
}

export interface Refusal {
  admitted: false
  /** `client`: over this client's rate, requests or bytes (429); `total`: over the node's (503). */
  scope: 'client' | 'total'
  limit: 'rate' | 'requests' | 'bytes'
  /** Seconds until a retry may succeed: when the next token is due, else the configured Retry-After. */
  retryAfter: number
}

interface ClientState { requests: number, bytes: number }

export class Admission {
  readonly #limits: AdmissionLimits
  readonly #retryAfter: number
  readonly #rate: RateLimiter | undefined
  /** Per client with requests in flight; a client leaves the map when its last request is released. */
  readonly #clients = new Map<string, ClientState>()
  #requests = 0
  #bytes = 0

  /** `retryAfterSeconds` is the wait given for every refusal but the rate's (limits.retryAfterSeconds). */
  constructor (limits: AdmissionLimits, retryAfterSeconds: number, now?: () => number) {
    this.#limits = limits
    this.#retryAfter = retryAfterSeconds
    this.#rate = limits.rateLimit === null ? undefined : new RateLimiter(limits.rateLimit, now)
  }

  /** Requests admitted and not yet released, the clients they belong to, and the bytes they hold. */
  get inFlight (): { total: number, clients: number, bytes: number } {
    return { total: this.#requests, clients: this.#clients.size, bytes: this.#bytes }
  }

  /**
   * Admits one request of `client` reserving `bytes`, or refuses it. The node's bounds are checked
   * first (when it is full, it is busy for everyone), then the client's, then the client's rate (a
   * refused request takes no token).
   */
  admit (client: string, bytes = 0): Ticket | Refusal {
    const l = this.#limits
    const own = this.#clients.get(client)
    const refuse = (scope: Refusal['scope'], limit: Refusal['limit'], retryAfter = this.#retryAfter): Refusal => ({ admitted: false, scope, limit, retryAfter })
    if (this.#requests >= l.maxInFlight) return refuse('total', 'requests')
    if (l.maxBytes !== undefined && this.#bytes + bytes > l.maxBytes) return refuse('total', 'bytes')
    if ((own?.requests ?? 0) >= l.maxInFlightPerClient) return refuse('client', 'requests')
    if (l.maxBytesPerClient !== undefined && (own?.bytes ?? 0) + bytes > l.maxBytesPerClient) return refuse('client', 'bytes')
    const wait = this.#rate?.take(client) ?? 0
    if (wait > 0) return refuse('client', 'rate', wait)
    const state = own ?? { requests: 0, bytes: 0 }
    state.requests++
    state.bytes += bytes
    this.#clients.set(client, state)
    this.#requests++
    this.#bytes += bytes
    let held = bytes
    let released = false
    return {
      admitted: true,
      hold: (next: number) => {
        if (released) return
        state.bytes += next - held
        this.#bytes += next - held
        held = next
      },
      release: () => {
        if (released) return
        released = true
        this.#requests--
        this.#bytes -= held
        state.requests--
        state.bytes -= held
        if (state.requests === 0) this.#clients.delete(client)
      },
    }
  }
}
