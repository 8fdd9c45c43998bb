/** COSE_Sign1 (RFC 9052 §4.2, §4.4): strict decoding, deterministic encoding, signing and verification. */
import { assertBytes, concatBytes } from '../bytes.js'
import { malformed, shown, ScittError } from '../errors.js'
import type { Signer, Verifier } from '../crypto/signature.js'
import { coseAlgorithm, signatureAlgorithmFromCose } from './algorithms.js'
import { decodeCbor, encodeCbor, encodeCborHead, Tagged, type CborDecodeOptions, type CborMap, type CborValue } from './cbor.js'
import { expectArray, expectBytes } from './expect.js'
import { HEADER } from './labels.js'

/** COSE_Sign1 tag (RFC 9052 §2). */
export const COSE_SIGN1_TAG = 18

export type HeaderLabel = number | string
export type HeaderMap = Map<HeaderLabel, CborValue>

export interface Sign1 {
  /** The serialized protected header exactly as signed (empty, or a CBOR map). */
  protectedBytes: Uint8Array
  protectedHeader: HeaderMap
  unprotected: HeaderMap
  /** null when detached. */
  payload: Uint8Array | null
  signature: Uint8Array
}

/** Limits for decoding untrusted COSE: the CBOR limits (tags are fixed by each decoder). */
export type CoseDecodeLimits = Omit<CborDecodeOptions, 'tags' | 'deterministic'>

const EMPTY = new Uint8Array(0)
/** The start of every COSE_Sign1 Sig_structure: a 4-element array head and its context "Signature1". */
const SIG_STRUCTURE_START = concatBytes(encodeCborHead(4, 4), encodeCbor('Signature1'))

function headerMap (value: CborMap, what: string): HeaderMap {
  for (const label of value.keys()) {
    if (typeof label === 'bigint') throw malformed(`${what}: header label ${label} out of range`)
  }
  return value as HeaderMap
}

/** Decodes the protected header bstr: empty (zero-length, or an encoded empty map) or a CBOR map. */
export function decodeProtectedHeader (protectedBytes: Uint8Array, limits: CoseDecodeLimits = {}): HeaderMap {
  if (protectedBytes.length === 0) return new Map()
  const value = decodeCbor(protectedBytes, limits)
  if (!(value instanceof Map)) throw malformed('COSE_Sign1: protected header must be a map')
  return headerMap(value, 'protected header')
}

/**
 * Strict decoding of a tagged COSE_Sign1: tag 18, four elements, protected bstr (empty or a map),
 * unprotected map, payload bstr or nil, signature bstr; no label in both buckets (RFC 9052 §3).
 * Tag 18 may also appear inside the unprotected header (unwrapped receipts in label 394).
 */
export function decodeSign1 (bytes: Uint8Array, limits: CoseDecodeLimits = {}): Sign1 {
  return sign1FromValue(decodeCbor(bytes, { ...limits, tags: [COSE_SIGN1_TAG] }), limits)
}

/** A COSE_Sign1 from an already decoded value (e.g. an unwrapped receipt). */
export function sign1FromValue (value: CborValue, limits: CoseDecodeLimits = {}): Sign1 {
  if (!(value instanceof Tagged) || value.tag !== COSE_SIGN1_TAG) throw malformed('COSE_Sign1: tag 18 required')
  const [protectedValue, unprotectedValue, payloadValue, signatureValue] = expectArray(value.value, 'COSE_Sign1', 4)
  const protectedBytes = expectBytes(protectedValue, 'COSE_Sign1 protected header')
  if (!(unprotectedValue instanceof Map)) throw malformed('COSE_Sign1: unprotected header must be a map')
  const payload = payloadValue === null ? null : expectBytes(payloadValue, 'COSE_Sign1 payload')
  const signature = expectBytes(signatureValue, 'COSE_Sign1 signature')
  const protectedHeader = decodeProtectedHeader(protectedBytes, limits)
  const unprotected = headerMap(unprotectedValue, 'unprotected header')
  for (const label of unprotected.keys()) {
    if (protectedHeader.has(label)) throw malformed(`COSE_Sign1: label ${String(label)} in both protected and unprotected headers`)
  }
  return { protectedBytes, protectedHeader, unprotected, payload, signature }
}

/** The value that `encodeSign1` serializes. */
export function sign1ToValue (sign1: Sign1): Tagged {
  return new Tagged(COSE_SIGN1_TAG, [sign1.protectedBytes, sign1.unprotected, sign1.payload, sign1.signature])
}

/** Deterministic encoding of the tagged COSE_Sign1 (the protected bytes are kept as they are). */
export function encodeSign1 (sign1: Sign1): Uint8Array {
  return encodeCbor(sign1ToValue(sign1))
}

/** Sig_structure for COSE_Sign1 (RFC 9052 §4.4): ["Signature1", protected, external_aad, payload]. */
export function sigStructure (protectedBytes: Uint8Array, payload: Uint8Array, externalAad: Uint8Array = EMPTY): Uint8Array {
  assertBytes(protectedBytes, 'protectedBytes')
  assertBytes(payload, 'payload')
  assertBytes(externalAad, 'externalAad')
  return concatBytes(
    SIG_STRUCTURE_START, encodeCborHead(2, protectedBytes.length), protectedBytes, encodeCborHead(2, externalAad.length), externalAad,
    encodeCborHead(2, payload.length), payload,
  )
}

export interface SignSign1Options {
  /** Encoded deterministically. Label 1 (alg) is added from the signer when absent, and must match it when present. */
  protectedHeader: HeaderMap
  unprotected?: HeaderMap
  payload: Uint8Array
  /** Leave the payload out of the message (nil) while signing over it. */
  detached?: boolean
}

/** Signs a COSE_Sign1 (RFC 9052 §4.4). */
export function signSign1 (options: SignSign1Options, signer: Signer): Sign1 {
  assertBytes(options.payload, 'payload')
  const alg = coseAlgorithm(signer.algorithm)
  const protectedHeader: HeaderMap = new Map(options.protectedHeader)
  const given = protectedHeader.get(HEADER.alg)
  if (given === undefined) protectedHeader.set(HEADER.alg, alg)
  else if (given !== alg) throw new TypeError(`protected alg ${shown(given)} does not match the ${signer.algorithm} signer`)
  const unprotected: HeaderMap = new Map(options.unprotected ?? [])
  for (const label of unprotected.keys()) {
    if (protectedHeader.has(label)) throw new TypeError(`label ${String(label)} in both protected and unprotected headers`)
  }
  const protectedBytes = encodeCbor(protectedHeader)
  const signature = signer.sign(sigStructure(protectedBytes, options.payload))
  return {
    protectedBytes,
    protectedHeader,
    unprotected,
    payload: options.detached === true ? null : options.payload.slice(),
    signature,
  }
}

/**
 * Verifies a COSE_Sign1 signature (RFC 9052 §4.4) with `verifier`. The alg must be in the protected
 * header (MALFORMED when absent, UNSUPPORTED when unknown); an alg other than the verifier's, or a
 * signature that does not verify, is BAD_SIGNATURE. A detached message needs `detachedPayload`;
 * giving one for an attached payload is MALFORMED.
 */
export function verifySign1 (sign1: Sign1, verifier: Verifier, detachedPayload?: Uint8Array): void {
  const alg = sign1.protectedHeader.get(HEADER.alg)
  if (alg === undefined) throw malformed('COSE_Sign1: alg (1) missing from the protected header')
  const algorithm = signatureAlgorithmFromCose(alg)
  if (algorithm !== verifier.algorithm) {
    throw new ScittError('BAD_SIGNATURE', `COSE_Sign1: alg ${algorithm} does not match the ${verifier.algorithm} key`)
  }
  let payload: Uint8Array
  if (detachedPayload !== undefined) {
    assertBytes(detachedPayload, 'detachedPayload')
    if (sign1.payload !== null) throw malformed('COSE_Sign1: payload both attached and detached')
    payload = detachedPayload
  } else {
    if (sign1.payload === null) throw malformed('COSE_Sign1: detached payload required')
    payload = sign1.payload
  }
  if (!verifier.verify(sigStructure(sign1.protectedBytes, payload), sign1.signature)) {
    throw new ScittError('BAD_SIGNATURE', 'COSE_Sign1: signature does not verify')
  }
}
