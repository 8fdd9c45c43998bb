/**
 * did:key identifiers (W3C did:key v0.7), the issuer form of open registries: `did:key:z` followed by
 * base58btc(multicodec varint ‖ public key), for Ed25519 (0xed, 32-byte key) and P-256 (0x1200,
 * 33-byte compressed SEC1 point). Portable: P-256 points are (de)compressed with bigint arithmetic
 * here; the signature provider checks the point when it builds a verifier.
 */
import { ScittError, concatBytes, type SignatureAlgorithm } from '@scitt/core'

const PREFIX = 'did:key:z'
const MAX_LENGTH = 128
const ALPHABET = '123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz'
const MULTICODEC = { Ed25519: [0xed, 0x01], ES256: [0x80, 0x24] } as const

// P-256 (SEC 2 §2.4.2): y² = x³ − 3x + b over F_p, p ≡ 3 (mod 4).
const P = 0xffffffff00000001000000000000000000000000ffffffffffffffffffffffffn
const B = 0x5ac635d8aa3a93e7b3ebbd55769886bc651d06b0cc53b0f63bce3c3e27d2604bn

function modPow (base: bigint, exponent: bigint, modulus: bigint): bigint {
  let result = 1n
  let b = base % modulus
  for (let e = exponent; e > 0n; e >>= 1n) {
    if ((e & 1n) === 1n) result = (result * b) % modulus
    b = (b * b) % modulus
  }
  return result
}

function bigintFrom (bytes: Uint8Array): bigint {
  let v = 0n
  for (const b of bytes) v = (v << 8n) | BigInt(b)
  return v
}

function bytesFrom (value: bigint, length: number): Uint8Array {
  const out = new Uint8Array(length)
  let v = value
  for (let i = length - 1; i >= 0; i--) {
    out[i] = Number(v & 0xffn)
    v >>= 8n
  }
  return out
}

function encodeBase58btc (bytes: Uint8Array): string {
  let value = bigintFrom(bytes)
  let out = ''
  while (value > 0n) {
    out = ALPHABET[Number(value % 58n)]! + out
    value /= 58n
  }
  for (const b of bytes) {
    if (b !== 0) break
    out = `1${out}`
  }
  return out
}

function decodeBase58btc (text: string): Uint8Array {
  let value = 0n
  for (const ch of text) {
    const digit = ALPHABET.indexOf(ch)
    if (digit < 0) throw new ScittError('MALFORMED', 'did:key: invalid base58btc character')
    value = value * 58n + BigInt(digit)
  }
  const digits: number[] = []
  while (value > 0n) {
    digits.push(Number(value % 256n))
    value /= 256n
  }
  for (const ch of text) {
    if (ch !== '1') break
    digits.push(0)
  }
  return Uint8Array.from(digits.reverse())
}

/** The compressed form (0x02 / 0x03 ‖ x) of an uncompressed P-256 point. */
function compressP256 (point: Uint8Array): Uint8Array {
  return concatBytes(Uint8Array.of(point[64]! % 2 === 0 ? 2 : 3), point.subarray(1, 33))
}

/** The uncompressed point (0x04 ‖ x ‖ y) of a compressed P-256 point; MALFORMED if x is not on the curve. */
function decompressP256 (compressed: Uint8Array): Uint8Array {
  const x = bigintFrom(compressed.subarray(1))
  if (x >= P) throw new ScittError('MALFORMED', 'did:key: P-256 x coordinate out of range')
  const rhs = (((x * x) % P) * x - 3n * x + B) % P
  const y2 = (rhs + P) % P
  let y = modPow(y2, (P + 1n) / 4n, P)
  if ((y * y) % P !== y2) throw new ScittError('MALFORMED', 'did:key: not a valid P-256 point')
  if (Number(y & 1n) !== compressed[0]! - 2) y = P - y
  return concatBytes(Uint8Array.of(4), bytesFrom(x, 32), bytesFrom(y, 32))
}

/** The did:key of an Ed25519 or P-256 public key (SignatureProvider encodings). */
export function didKeyFromPublicKey (algorithm: SignatureAlgorithm, publicKey: Uint8Array): string {
  if (algorithm === 'Ed25519' && publicKey.length === 32) return PREFIX + encodeBase58btc(concatBytes(Uint8Array.from(MULTICODEC.Ed25519), publicKey))
  if (algorithm === 'ES256' && publicKey.length === 65 && publicKey[0] === 4) {
    return PREFIX + encodeBase58btc(concatBytes(Uint8Array.from(MULTICODEC.ES256), compressP256(publicKey)))
  }
  throw new ScittError('UNSUPPORTED', `did:key supports Ed25519 and ES256 (P-256) keys, not ${algorithm}`)
}

export function isDidKey (iss: string): boolean {
  return iss.startsWith('did:key:')
}

/** The public key of a did:key; MALFORMED for a bad encoding, UNSUPPORTED for other key types. */
export function publicKeyFromDidKey (did: string): { algorithm: SignatureAlgorithm, publicKey: Uint8Array } {
  if (typeof did !== 'string' || !did.startsWith(PREFIX) || did.length > MAX_LENGTH) {
    throw new ScittError('MALFORMED', 'did:key: expected did:key:z<base58btc>')
  }
  const bytes = decodeBase58btc(did.slice(PREFIX.length))
  if (bytes[0] === 0xed && bytes[1] === 0x01) {
    if (bytes.length !== 34) throw new ScittError('MALFORMED', 'did:key: an Ed25519 key is 32 bytes')
    return { algorithm: 'Ed25519', publicKey: bytes.slice(2) }
  }
  if (bytes[0] === 0x80 && bytes[1] === 0x24) {
    if (bytes.length !== 35 || (bytes[2] !== 2 && bytes[2] !== 3)) throw new ScittError('MALFORMED', 'did:key: a P-256 key is a 33-byte compressed point')
    return { algorithm: 'ES256', publicKey: decompressP256(bytes.subarray(2)) }
  }
  throw new ScittError('UNSUPPORTED', 'did:key: only Ed25519 (0xed) and P-256 (0x1200) keys are supported')
}
