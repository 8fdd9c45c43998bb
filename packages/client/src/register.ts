/**
 * SCRAPI registration (draft-ietf-scitt-scrapi §2.3, §2.4): `POST /entries` answers 201 with the
 * receipt, or 303 to the operation, which answers 202 or 302 (both mean "still running", spec digest
 * §2.2) with Retry-After until it answers 200 with the receipt.
 */
import { MEDIA_TYPE, ScittError, decodeSign1, entryBytes, entryId } from '@scitt/core'
import { expectStatus, httpRequest, joinUrl, retryAfterMs, sleep, type HttpOptions } from './http.js'

export interface RegisterOptions extends HttpOptions {
  /** Poll until the receipt exists (default false: a 303 returns the operation's location). */
  wait?: boolean
  /** Longest total wait for the receipt when `wait`, in ms (default 30 000). */
  waitMs?: number
  /** Bounds on the delay between polls, in ms (defaults 100 and 5 000); Retry-After is clamped to them. */
  minPollMs?: number
  maxPollMs?: number
}

export interface Registration {
  /** Lowercase hex entry id (leaf hash of the entry), computed locally from the statement. */
  entryId: string
  /** The receipt, once the statement is integrated. */
  receipt?: Uint8Array
  /** Where to poll (or fetch) the receipt. */
  location: string
}

export interface PollOptions extends HttpOptions {
  waitMs?: number
  minPollMs?: number
  maxPollMs?: number
}

function locationOf (response: { headers: Headers, url: string }): string | undefined {
  const location = response.headers.get('location')
  return location === null ? undefined : new URL(location, response.url).toString()
}

/**
 * Polls an entry or operation URL until it answers 200 with a receipt. 202 / 302 / 303 mean "not yet":
 * the next poll waits Retry-After (clamped) and follows a new Location. PUSHBACK after `waitMs`.
 */
export async function pollReceipt (url: string, options: PollOptions = {}): Promise<{ receipt: Uint8Array, location: string }> {
  const { waitMs = 30_000, minPollMs = 100, maxPollMs = 5000 } = options
  const deadline = Date.now() + waitMs
  let at = url
  let delay = minPollMs
  for (;;) {
    const response = expectStatus('GET', await httpRequest(at, { headers: { accept: `${MEDIA_TYPE.cose}, ${MEDIA_TYPE.cbor}` } }, options), [200, 202, 302, 303])
    if (response.status === 200) return { receipt: response.body, location: locationOf(response) ?? at }
    at = locationOf(response) ?? at
    const asked = retryAfterMs(response.headers)
    delay = Math.min(maxPollMs, Math.max(minPollMs, asked ?? delay * 2))
    if (Date.now() + delay > deadline) {
      throw new ScittError('PUSHBACK', `no receipt at ${at} within ${waitMs} ms; try again later`, { details: { location: at } })
    }
    await sleep(delay, options.signal)
  }
}

/**
 * Registers a Signed Statement at a node. Resolves with the receipt after a 201, or after a 303 when
 * `wait` is set; without `wait`, a 303 resolves with the location only. Errors: the node's problem
 * details as a ScittError (e.g. POLICY "Rejected", MALFORMED), PUSHBACK after the retries or the wait.
 */
export async function register (nodeUrl: string, statement: Uint8Array, options: RegisterOptions = {}): Promise<Registration> {
  const id = entryId(entryBytes(decodeSign1(statement)))
  const url = joinUrl(nodeUrl, 'entries')
  const response = expectStatus('POST', await httpRequest(url, {
    method: 'POST',
    headers: { 'content-type': MEDIA_TYPE.cose, accept: `${MEDIA_TYPE.cose}, ${MEDIA_TYPE.problemDetails}` },
    body: statement as Uint8Array<ArrayBuffer>,
  }, options), [201, 303])
  const location = locationOf(response) ?? joinUrl(nodeUrl, `entries/${id}`)
  if (response.status === 201) return { entryId: id, receipt: response.body, location }
  if (options.wait !== true) return { entryId: id, location }
  const polled = await pollReceipt(location, options)
  return { entryId: id, receipt: polled.receipt, location: polled.location }
}
