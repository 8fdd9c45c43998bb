/**
 * Per-client-address token buckets: SCRAPI requires rate limiting or other DoS mitigation when
 * registration is unauthenticated (scrapi-09 §4.4.1.2). Each address refills at `perSecond` up to
 * `burst`; at most `maxClients` addresses are tracked (the least recently seen is forgotten), so
 * memory stays bounded.
 */
import type { RateLimitConfig } from './config.js'

interface Bucket { tokens: number, at: number }

export class RateLimiter {
  readonly #config: RateLimitConfig
  readonly #buckets = new Map<string, Bucket>()
  readonly #now: () => number

  constructor (config: RateLimitConfig, now: () => number = () => performance.now()) {
    this.#config = config
    this.#now = now
  }

  /** Takes one token for `client`: 0 when allowed, else the seconds until a token is available. */
  take (client: string): number {
    const { perSecond, burst, maxClients } = this.#config
    const now = this.#now()
    let bucket = this.#buckets.get(client)
    if (bucket === undefined) {
      bucket = { tokens: burst, at: now }
      if (this.#buckets.size >= maxClients) this.#buckets.delete(this.#buckets.keys().next().value!)
    } else {
      this.#buckets.delete(client) // re-inserted below: Map order is recency order
      bucket.tokens = Math.min(burst, bucket.tokens + ((now - bucket.at) / 1000) * perSecond)
      bucket.at = now
    }
    this.#buckets.set(client, bucket)
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1
      return 0
    }
    return Math.max(1, Math.ceil((1 - bucket.tokens) / perSecond))
  }
}
