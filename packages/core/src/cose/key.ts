/**
 * COSE_Key (RFC 9052 §7, RFC 9053 §7) for our public signature keys, COSE Key Thumbprints
 * (RFC 9679) and JWK import (RFC 7517, RFC 8037).
 *
 * Supported: OKP Ed25519 `{1: 1, -1: 6, -2: x}` and EC2 P-256 / P-384 `{1: 2, -1: 1|2, -2: x, -3: y}`,
 * with optional kid (2) and alg (3). Public keys use the SignatureProvider encodings: Ed25519 raw
 * 32 bytes; ECDSA uncompressed SEC1 (0x04 ‖ x ‖ y).
 */
import { p256, p384 } from '@noble/curves/nist.js'
import { assertBytes, concatBytes, fromBase64Url } from '../bytes.js'
import { malformed, shown, ScittError } from '../errors.js'
import { assertAlgorithm, KEY_SIZES, type SignatureAlgorithm } from '../crypto/signature.js'
import { sha256Digest } from '../merkle/hash.js'
import { coseAlgorithm, signatureAlgorithmFromCose } from './algorithms.js'
import { decodeCbor, encodeCbor, type CborMap, type CborValue } from './cbor.js'
import { expectArray, expectBytes, expectMap } from './expect.js'

export interface CoseKey {
  algorithm: SignatureAlgorithm
  publicKey: Uint8Array
  kid?: Uint8Array
}

const LABEL = { kty: 1, kid: 2, alg: 3, crv: -1, x: -2, y: -3, d: -4 } as const
const KTY = { OKP: 1, EC2: 2 } as const

/** kty and crv of each algorithm (RFC 9053 §7.1, §7.2). */
const CURVES: Readonly<Record<SignatureAlgorithm, { kty: number, crv: number, coordinate: number }>> = {
  Ed25519: { kty: KTY.OKP, crv: 6, coordinate: 32 },
  ES256: { kty: KTY.EC2, crv: 1, coordinate: 32 },
  ES384: { kty: KTY.EC2, crv: 2, coordinate: 48 },
}

const KEY_LIMITS = { maxSize: 16 * 1024, maxDepth: 4 }
const SET_LIMITS = { maxSize: 1 << 20, maxDepth: 4 }

function checkKey (key: CoseKey): void {
  assertAlgorithm(key.algorithm)
  assertBytes(key.publicKey, 'publicKey', KEY_SIZES[key.algorithm].publicKey)
  if (key.kid !== undefined) assertBytes(key.kid, 'kid')
}

/** The members RFC 9679 §4 requires: kty, crv, x (and y for EC2). */
function requiredMembers (key: CoseKey): Map<number, CborValue> {
  const { kty, crv, coordinate } = CURVES[key.algorithm]
  const map = new Map<number, CborValue>([[LABEL.kty, kty], [LABEL.crv, crv]])
  if (kty === KTY.OKP) {
    map.set(LABEL.x, key.publicKey)
  } else {
    map.set(LABEL.x, key.publicKey.subarray(1, 1 + coordinate))
    map.set(LABEL.y, key.publicKey.subarray(1 + coordinate))
  }
  return map
}

function toMap (key: CoseKey): Map<number, CborValue> {
  checkKey(key)
  const map = requiredMembers(key)
  map.set(LABEL.alg, coseAlgorithm(key.algorithm))
  if (key.kid !== undefined) map.set(LABEL.kid, key.kid)
  return map
}

/** Deterministic COSE_Key with kty, crv, x (, y), alg and kid when present. */
export function encodeCoseKey (key: CoseKey): Uint8Array {
  return encodeCbor(toMap(key))
}

/** COSE Key Thumbprint (RFC 9679 §3): SHA-256 of the deterministic encoding of the required members only. */
export function coseKeyThumbprint (key: CoseKey): Uint8Array {
  checkKey(key)
  return sha256Digest(encodeCbor(requiredMembers(key)))
}

function algorithmOf (kty: CborValue | undefined, crv: CborValue | undefined): SignatureAlgorithm {
  if (kty === undefined) throw malformed('COSE_Key: kty (1) missing')
  if (crv === undefined) throw malformed('COSE_Key: crv (-1) missing')
  if (kty !== KTY.OKP && kty !== KTY.EC2) throw new ScittError('UNSUPPORTED', `COSE_Key: unsupported kty ${shown(kty)}`)
  for (const [name, curve] of Object.entries(CURVES)) {
    if (curve.kty === kty && curve.crv === crv) return name as SignatureAlgorithm
  }
  throw new ScittError('UNSUPPORTED', `COSE_Key: unsupported curve ${shown(crv)} for kty ${kty}`)
}

function publicKeyFromCoordinates (algorithm: SignatureAlgorithm, x: Uint8Array, y: Uint8Array | undefined): Uint8Array {
  if (algorithm === 'Ed25519') return x.slice()
  const point = concatBytes(Uint8Array.of(4), x, y!)
  try {
    (algorithm === 'ES256' ? p256 : p384).Point.fromBytes(point).assertValidity()
  } catch (cause) {
    throw malformed(`COSE_Key: ${algorithm} public key is not a valid curve point`, cause)
  }
  return point
}

function fromMap (map: CborMap): CoseKey {
  if (map.has(LABEL.d)) throw malformed('COSE_Key: private key members are not accepted')
  const algorithm = algorithmOf(map.get(LABEL.kty), map.get(LABEL.crv))
  const { coordinate } = CURVES[algorithm]
  const x = expectBytes(map.get(LABEL.x), 'COSE_Key x (-2)', coordinate)
  let y: Uint8Array | undefined
  if (algorithm === 'Ed25519') {
    if (map.has(LABEL.y)) throw malformed('COSE_Key: OKP keys have no y (-3)')
  } else {
    const yValue = map.get(LABEL.y)
    if (typeof yValue === 'boolean') throw new ScittError('UNSUPPORTED', 'COSE_Key: compressed EC2 points are not supported')
    y = expectBytes(yValue, 'COSE_Key y (-3)', coordinate)
  }
  const alg = map.get(LABEL.alg)
  if (alg !== undefined && signatureAlgorithmFromCose(alg) !== algorithm) throw malformed(`COSE_Key: alg ${shown(alg)} does not match the ${algorithm} key`)
  const key: CoseKey = { algorithm, publicKey: publicKeyFromCoordinates(algorithm, x, y) }
  const kid = map.get(LABEL.kid)
  if (kid !== undefined) key.kid = expectBytes(kid, 'COSE_Key kid (2)')
  return key
}

/**
 * Strict decoding of a public COSE_Key: supported kty/crv (UNSUPPORTED otherwise), coordinates of
 * the exact size, EC points on the curve, alg consistent with the curve, no private members.
 * Other labels (key_ops, extensions) are ignored.
 */
export function decodeCoseKey (bytes: Uint8Array): CoseKey {
  return fromMap(expectMap(decodeCbor(bytes, KEY_LIMITS), 'COSE_Key'))
}

/** COSE_KeySet (RFC 9052 §7): an array of COSE_Key, as served at /.well-known/scitt-keys. */
export function encodeCoseKeySet (keys: readonly CoseKey[]): Uint8Array {
  return encodeCbor(keys.map(toMap))
}

/** Decodes a COSE_KeySet, skipping keys of unsupported types (a TS may publish others); other errors throw. */
export function decodeCoseKeySet (bytes: Uint8Array): CoseKey[] {
  const keys: CoseKey[] = []
  for (const item of expectArray(decodeCbor(bytes, SET_LIMITS), 'COSE_KeySet')) {
    try {
      keys.push(fromMap(expectMap(item, 'COSE_Key')))
    } catch (err) {
      if (!(err instanceof ScittError && err.code === 'UNSUPPORTED')) throw err
    }
  }
  return keys
}

/** A public JWK: OKP Ed25519 (RFC 8037) or EC P-256 / P-384 (RFC 7518 §6.2). */
export interface PublicJwk {
  kty: string
  crv: string
  x: string
  y?: string
  alg?: string
  d?: string
}

const JWK_CURVES: Readonly<Record<string, { kty: string, algorithm: SignatureAlgorithm, alg: readonly string[] }>> = {
  Ed25519: { kty: 'OKP', algorithm: 'Ed25519', alg: ['EdDSA', 'Ed25519'] },
  'P-256': { kty: 'EC', algorithm: 'ES256', alg: ['ES256'] },
  'P-384': { kty: 'EC', algorithm: 'ES384', alg: ['ES384'] },
}

/** Imports a public JWK (strict base64url, exact coordinate sizes); private JWKs are MALFORMED. */
export function coseKeyFromJwk (jwk: PublicJwk): CoseKey {
  if (typeof jwk !== 'object' || jwk === null) throw malformed('JWK must be an object')
  if (jwk.d !== undefined) throw malformed('JWK: private keys are not accepted')
  const curve = typeof jwk.crv === 'string' && Object.hasOwn(JWK_CURVES, jwk.crv) ? JWK_CURVES[jwk.crv] : undefined
  if (curve === undefined || curve.kty !== jwk.kty) throw new ScittError('UNSUPPORTED', `JWK: unsupported kty/crv ${String(jwk.kty)}/${String(jwk.crv)}`)
  if (jwk.alg !== undefined && !curve.alg.includes(jwk.alg)) throw malformed(`JWK: alg ${String(jwk.alg)} does not match crv ${jwk.crv}`)
  const { coordinate } = CURVES[curve.algorithm]
  const coordinateOf = (value: unknown, name: string): Uint8Array => {
    if (typeof value !== 'string') throw malformed(`JWK: ${name} must be a string`)
    const bytes = fromBase64Url(value)
    if (bytes.length !== coordinate) throw malformed(`JWK: ${name} must be ${coordinate} bytes`)
    return bytes
  }
  const x = coordinateOf(jwk.x, 'x')
  if (curve.kty === 'OKP') {
    if (jwk.y !== undefined) throw malformed('JWK: OKP keys have no y')
    return { algorithm: curve.algorithm, publicKey: x }
  }
  return { algorithm: curve.algorithm, publicKey: publicKeyFromCoordinates(curve.algorithm, x, coordinateOf(jwk.y, 'y')) }
}
