/**
 * Signing statements for issuers. Plain statements use core's `buildStatement`; a hash envelope
 * (RFC 9995 §3) is signed here over a digest the caller computed, so a large artifact can be hashed as
 * a stream and never held in memory. Both come out with the same headers (alg, kid, CWT iss and sub).
 */
import {
  COSE_SHA256, CWT_CLAIM, HEADER, assertBytes, buildStatement, encodeSign1, signSign1, validateStatement,
  type CborValue, type ContentType, type HeaderMap, type Signer,
} from '@scitt/core'

export interface SignStatementOptions {
  signer: Signer
  kid: Uint8Array
  iss: string
  sub: string
  contentType: ContentType
}

/** A Signed Statement over `payload`, content type in label 3. */
export function signStatement (options: SignStatementOptions & { payload: Uint8Array }): Uint8Array {
  const { signer, kid, iss, sub, contentType, payload } = options
  return encodeSign1(buildStatement({ signer, kid, iss, sub, contentType, payload }))
}

/**
 * A hash-envelope Signed Statement: payload = the artifact's SHA-256 `digest`, 258 = -16, 259 = its
 * content type, 260 = `location` when given (no label 3, RFC 9995 §3).
 */
export function signHashEnvelope (options: SignStatementOptions & { digest: Uint8Array, location?: string }): Uint8Array {
  const { signer, kid, iss, sub, contentType, digest, location } = options
  assertBytes(digest, 'digest', 32)
  const header: HeaderMap = new Map<number, CborValue>([
    [HEADER.kid, kid],
    [HEADER.cwtClaims, new Map([[CWT_CLAIM.iss, iss], [CWT_CLAIM.sub, sub]])],
    [HEADER.payloadHashAlg, COSE_SHA256],
    [HEADER.preimageContentType, contentType],
  ])
  if (location !== undefined) header.set(HEADER.payloadLocation, location)
  const sign1 = signSign1({ protectedHeader: header, payload: digest }, signer)
  validateStatement(sign1)
  return encodeSign1(sign1)
}
