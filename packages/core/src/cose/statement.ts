/**
 * SCITT Signed Statements (RFC 9943 §6) and the COSE Hash Envelope (RFC 9995), plus this project's
 * RFC9162_SHA256 leaf profile (no standard defines one; see docs/spec-digest.md §3.6):
 * entry = deterministic CBOR of the tagged COSE_Sign1 with the unprotected header set to `{}`
 * (RFC 9943 §6.3), leaf hash = SHA-256(0x00 ‖ entry).
 */
import { assertBytes, toHex } from '../bytes.js'
import { malformed, ScittError } from '../errors.js'
import type { SignatureAlgorithm, Signer } from '../crypto/signature.js'
import { leafHash, sha256Digest } from '../merkle/hash.js'
import { signatureAlgorithmFromCose } from './algorithms.js'
import type { CborValue } from './cbor.js'
import { expectBytes, expectMap, expectText } from './expect.js'
import { CWT_CLAIM, HEADER } from './labels.js'
import { decodeSign1, encodeSign1, signSign1, type HeaderMap, type Sign1 } from './sign1.js'

/** COSE alg id of SHA-256 (RFC 9054 §2.1), the payload hash of our hash envelopes. */
export const COSE_SHA256 = -16

/** Payload hash algorithms accepted in label 258, with their digest sizes (RFC 9054 §2). */
const PAYLOAD_HASH_SIZES: ReadonlyMap<number, number> = new Map([[-16, 32], [-43, 48], [-44, 64]])

export type ContentType = string | number

export interface HashEnvelopeOptions {
  hashAlg: typeof COSE_SHA256
  /** Content type of the artifact (label 259). */
  preimageContentType: ContentType
  /** Where the artifact can be found (label 260). */
  location?: string
}

export interface BuildStatementOptions {
  signer: Signer
  kid: Uint8Array
  iss: string
  sub: string
  /** Label 3 for a plain statement; ignored (label 3 is forbidden) for a hash envelope. */
  contentType?: ContentType
  /** The statement payload; with `hashEnvelope`, the artifact whose SHA-256 becomes the payload. */
  payload: Uint8Array
  hashEnvelope?: HashEnvelopeOptions
  /** Label 16 (typ), e.g. "application/example+cose". */
  typ?: string
}

/** Signs a Signed Statement with the headers RFC 9943 §6 requires (alg, kid, CWT claims iss and sub). */
export function buildStatement (options: BuildStatementOptions): Sign1 {
  const { signer, kid, iss, sub, hashEnvelope } = options
  assertBytes(kid, 'kid')
  if (typeof iss !== 'string' || typeof sub !== 'string') throw new TypeError('iss and sub must be strings')
  const header: HeaderMap = new Map<number, CborValue>([
    [HEADER.kid, kid],
    [HEADER.cwtClaims, new Map([[CWT_CLAIM.iss, iss], [CWT_CLAIM.sub, sub]])],
  ])
  if (options.typ !== undefined) header.set(HEADER.typ, options.typ)
  let payload = options.payload
  if (hashEnvelope !== undefined) {
    if (hashEnvelope.hashAlg !== COSE_SHA256) throw new TypeError('only SHA-256 (-16) hash envelopes are built')
    assertBytes(payload, 'payload')
    payload = sha256Digest(payload)
    header.set(HEADER.payloadHashAlg, COSE_SHA256)
    header.set(HEADER.preimageContentType, hashEnvelope.preimageContentType)
    if (hashEnvelope.location !== undefined) header.set(HEADER.payloadLocation, hashEnvelope.location)
  } else if (options.contentType !== undefined) {
    header.set(HEADER.contentType, options.contentType)
  }
  return signSign1({ protectedHeader: header, payload }, signer)
}

export interface HashEnvelopeInfo {
  /** COSE hash algorithm of the payload (label 258). */
  hashAlg: number
  preimageContentType?: ContentType
  location?: string
}

export interface StatementInfo {
  alg: SignatureAlgorithm
  kid?: Uint8Array
  iss: string
  sub: string
  /** Label 3, or label 259 for a hash envelope. */
  contentType?: ContentType
  typ?: string
  hashEnvelope?: HashEnvelopeInfo
  /** Label 33, protected or unprotected: one certificate or a chain, leaf first (RFC 9360). */
  x5chain?: Uint8Array[]
  /** Label 34 (protected), kept encoded: [hashAlg, hash]. */
  x5t?: CborValue
}

function contentType (value: CborValue, what: string): ContentType {
  if (typeof value === 'string' || (typeof value === 'number' && value >= 0 && value <= 0xffff)) return value
  throw malformed(`statement: ${what} must be a text string or a CoAP content-format`)
}

function x5chain (value: CborValue): Uint8Array[] {
  if (value instanceof Uint8Array) return [value]
  if (Array.isArray(value) && value.length >= 2) return value.map((cert) => expectBytes(cert, 'statement: x5chain (33) certificate'))
  throw malformed('statement: x5chain (33) must be a bstr or an array of at least two bstr')
}

/**
 * Checks the headers of a Signed Statement (RFC 9943 §6, RFC 9995 §3) without verifying its
 * signature: alg (protected, supported), kid (bstr) unless x5t/x5chain is protected, CWT claims (15)
 * with text iss and sub; hash envelopes: 258 protected only, 259/260 never unprotected, no label 3.
 * MALFORMED naming the header; UNSUPPORTED for an unknown signature or payload hash algorithm.
 */
export function validateStatement (sign1: Sign1): StatementInfo {
  const p = sign1.protectedHeader
  const u = sign1.unprotected
  const algValue = p.get(HEADER.alg)
  if (algValue === undefined) throw malformed('statement: alg (1) missing from the protected header')
  const info: Partial<StatementInfo> & { alg: SignatureAlgorithm } = { alg: signatureAlgorithmFromCose(algValue) }

  const claims = expectMap(p.get(HEADER.cwtClaims), 'statement: CWT claims (15) in the protected header')
  info.iss = expectText(claims.get(CWT_CLAIM.iss), 'statement: CWT claim iss (15 → 1)')
  info.sub = expectText(claims.get(CWT_CLAIM.sub), 'statement: CWT claim sub (15 → 2)')

  const kid = p.get(HEADER.kid) ?? u.get(HEADER.kid)
  if (kid !== undefined) info.kid = expectBytes(kid, 'statement: kid (4)')
  const chain = p.get(HEADER.x5chain) ?? u.get(HEADER.x5chain)
  if (chain !== undefined) info.x5chain = x5chain(chain)
  if (p.has(HEADER.x5t)) info.x5t = p.get(HEADER.x5t)
  const x509Protected = p.has(HEADER.x5chain) || p.has(HEADER.x5t)
  if (!p.has(HEADER.kid) && !x509Protected) throw malformed('statement: kid (4) or x5t (34) / x5chain (33) required in the protected header')
  if (x509Protected && (info.iss.length < 1 || info.iss.length > 8192)) throw malformed('statement: iss must be 1 to 8192 characters with X.509')

  const typ = p.get(HEADER.typ)
  if (typ !== undefined) info.typ = expectText(typ, 'statement: typ (16)')

  for (const label of [HEADER.payloadHashAlg, HEADER.preimageContentType, HEADER.payloadLocation]) {
    if (u.has(label)) throw malformed(`statement: hash envelope label ${label} must not be in the unprotected header`)
  }
  const hashAlg = p.get(HEADER.payloadHashAlg)
  if (hashAlg !== undefined) {
    if (p.has(HEADER.contentType) || u.has(HEADER.contentType)) throw malformed('statement: content type (3) is forbidden with payload-hash-alg (258)')
    if (typeof hashAlg !== 'number') throw malformed('statement: payload-hash-alg (258) must be an integer')
    const size = PAYLOAD_HASH_SIZES.get(hashAlg)
    if (size === undefined) throw new ScittError('UNSUPPORTED', `statement: unsupported payload-hash-alg ${hashAlg}`)
    if (sign1.payload !== null && sign1.payload.length !== size) throw malformed(`statement: hash envelope payload must be ${size} bytes`)
    const envelope: HashEnvelopeInfo = { hashAlg }
    const pct = p.get(HEADER.preimageContentType)
    if (pct !== undefined) envelope.preimageContentType = info.contentType = contentType(pct, 'preimage-content-type (259)')
    const location = p.get(HEADER.payloadLocation)
    if (location !== undefined) envelope.location = expectText(location, 'statement: payload-location (260)')
    info.hashEnvelope = envelope
  } else {
    if (p.has(HEADER.preimageContentType) || p.has(HEADER.payloadLocation)) throw malformed('statement: labels 259/260 require payload-hash-alg (258)')
    const ct = p.get(HEADER.contentType) ?? u.get(HEADER.contentType)
    if (ct !== undefined) info.contentType = contentType(ct, 'content type (3)')
  }
  return info as StatementInfo
}

/** Entry bytes of our leaf profile: the tagged COSE_Sign1, deterministically encoded, unprotected = {}. */
export function entryBytes (statement: Sign1 | Uint8Array): Uint8Array {
  const sign1 = statement instanceof Uint8Array ? decodeSign1(statement) : statement
  return encodeSign1({ ...sign1, unprotected: new Map() })
}

/** Lowercase hex of the RFC 9162 leaf hash of an entry: the entry id of our logs. */
export function entryId (entry: Uint8Array): string {
  return toHex(leafHash(entry))
}

const ENTRY_ID = /^[0-9a-f]{64}$/

/** True for the text form of an entry id: 64 lowercase hex digits. */
export function isEntryId (id: unknown): id is string {
  return typeof id === 'string' && ENTRY_ID.test(id)
}
