/**
 * Bearer tokens for `POST /entries` (RFC 6750 §2.1), when `http.submitters` lists any: the request's
 * `Authorization: Bearer <token>` names a submitter by its token, compared in constant time (the
 * token's SHA-256 against each configured hash with `timingSafeEqual`, every hash compared), and each
 * submitter has its own token bucket. Tokens are never stored or logged, only their hashes are kept.
 */
import { createHash, timingSafeEqual } from 'node:crypto'
import type { IncomingMessage } from 'node:http'
import type { SubmitterConfig } from '../config.js'
import { RateLimiter } from '../rate-limit.js'

/** Longest Authorization header looked at (a token file holds at most 4 096 characters). */
const MAX_AUTHORIZATION = 4200
const BEARER = /^Bearer +([A-Za-z0-9._~+/-]+=*) *$/i

export interface Submitter {
  name: string
  /** Takes a token from this submitter's bucket: 0 when allowed, else the seconds to wait. */
  take: () => number
}

interface Entry { name: string, hash: Uint8Array, rate: RateLimiter | undefined }

export class Submitters {
  readonly #entries: Entry[]

  constructor (configs: readonly SubmitterConfig[], now?: () => number) {
    this.#entries = configs.map((c) => ({
      name: c.name,
      hash: c.tokenHash,
      rate: c.rateLimit === null ? undefined : new RateLimiter({ ...c.rateLimit, maxClients: 1 }, now),
    }))
  }

  /** True when registration needs a token. */
  get required (): boolean {
    return this.#entries.length > 0
  }

  /** The submitter whose token `req` carries; undefined for none, a malformed header or an unknown token. */
  authenticate (req: IncomingMessage): Submitter | undefined {
    const header = req.headers.authorization
    if (typeof header !== 'string' || header.length > MAX_AUTHORIZATION) return undefined
    const m = BEARER.exec(header)
    if (m === null) return undefined
    const presented = createHash('sha256').update(m[1]!, 'utf8').digest()
    let found: Entry | undefined
    for (const entry of this.#entries) {
      if (timingSafeEqual(presented, entry.hash) && found === undefined) found = entry
    }
    if (found === undefined) return undefined
    const { name, rate } = found
    return { name, take: () => rate?.take(name) ?? 0 }
  }
}
