/**
 * SCRAPI registration (draft-ietf-scitt-scrapi §2.3, §2.4): `POST /entries` answers 201 with the
 * receipt, or 303 to the operation, which answers 202 or 302 (both mean "still running", docs/spec-digest.md
 * §2.2) with Retry-After until it answers 200 with the receipt (see `poll`).
 */
import { MEDIA_TYPE, decodeSign1, entryBytes, entryId } from '@scitt/core'
import { expectStatus, httpRequest, joinUrl, locationOf } from './http.js'
import { poll, type PollOptions } from './poll.js'

export interface RegisterOptions extends Omit<PollOptions, 'whileNotFound' | 'notReady'> {
  /** Poll until the receipt exists, at most `waitMs` (default false: a 303 returns the operation's location). */
  wait?: boolean
}

export interface Registration {
  /** Lowercase hex entry id (leaf hash of the entry), computed locally from the statement. */
  entryId: string
  /** The receipt, once the statement is integrated. */
  receipt?: Uint8Array
  /** Where to poll (or fetch) the receipt. */
  location: string
}

/** What a receipt request accepts. */
export const RECEIPT_ACCEPT = `${MEDIA_TYPE.cose}, ${MEDIA_TYPE.cbor}`

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
  const polled = await poll(location, RECEIPT_ACCEPT, options)
  return { entryId: id, receipt: polled.body, location: polled.location }
}
