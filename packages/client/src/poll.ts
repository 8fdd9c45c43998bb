/**
 * Polling a resource until it is ready. 202, 302 and 303 mean "still running" (SCRAPI §2.3–2.4, spec
 * digest §2.2): the next request waits the answer's Retry-After and follows its Location. With
 * `whileNotFound`, 404 means "not here yet" (an entry that has not reached this node, e.g. a mirror
 * catching up with its origin) and is polled too; with `notReady`, a 200 whose body is not ready yet
 * (e.g. fewer receipts than wanted) is asked for again. Every wait ends at the deadline, `waitMs` after
 * the first request: the last poll is made at the deadline at the latest, then PUSHBACK names the last
 * answer.
 */
import { ScittError } from '@scitt/core'
import { expectStatus, httpError, httpRequest, locationOf, retryAfterMs, sleep, type HttpOptions } from './http.js'

export interface PollOptions extends HttpOptions {
  /** Longest total wait, in ms (default 30 000; 0 makes one request). */
  waitMs?: number
  /** The first delay between polls and the least, in ms (default 100). */
  minPollMs?: number
  /**
   * The longest delay between polls when the node sends no Retry-After, in ms (default 5 000): the
   * delay doubles from minPollMs up to it. A Retry-After is honoured as sent, up to the deadline.
   */
  maxPollMs?: number
  /** Keep polling while the node answers 404 (default false: a 404 is NOT_FOUND at once). */
  whileNotFound?: boolean
  /** Why a 200 body is not ready yet (it is polled again), or undefined when it is. */
  notReady?: (body: Uint8Array) => string | undefined
}

const PENDING: readonly number[] = [202, 302, 303]
/** The longest delay a timer takes (larger ones fire at once). */
const MAX_DELAY_MS = 2_147_483_647

/**
 * GETs `url` until it answers 200 with a ready body; the body and where it was found. Errors: the
 * node's error answers as ScittErrors (see `expectStatus`), PUSHBACK once `waitMs` has passed.
 */
export async function poll (url: string, accept: string, options: PollOptions = {}): Promise<{ body: Uint8Array, location: string }> {
  const { waitMs = 30_000, minPollMs = 100, maxPollMs = 5000 } = options
  const deadline = Date.now() + waitMs
  let at = url
  let backoff = minPollMs
  const expected = options.whileNotFound === true ? [200, 404, ...PENDING] : [200, ...PENDING]
  for (;;) {
    const response = expectStatus('GET', await httpRequest(at, { headers: { accept } }, options), expected)
    let waiting: string
    if (response.status === 200) {
      const reason = options.notReady?.(response.body)
      if (reason === undefined) return { body: response.body, location: locationOf(response) ?? at }
      waiting = reason
    } else if (response.status === 404) {
      waiting = httpError('GET', response).message
    } else {
      waiting = `GET ${at} answered ${response.status} (not ready yet)`
      at = locationOf(response) ?? at
    }
    const left = deadline - Date.now()
    if (left <= 0) {
      throw new ScittError('PUSHBACK', `${waitMs === 0 ? '' : `timed out after ${waitMs} ms waiting for ${url}: `}${waiting}; try again later`, {
        details: { url, location: at, status: response.status },
      })
    }
    const delay = Math.max(minPollMs, retryAfterMs(response.headers) ?? backoff)
    backoff = Math.min(maxPollMs, backoff * 2)
    await sleep(Math.min(delay, left, MAX_DELAY_MS), options.signal)
  }
}
