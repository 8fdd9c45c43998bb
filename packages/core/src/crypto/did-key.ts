/**
 * did:key identifiers (W3C did:key v0.7), the issuer form of open registries: `did:key:z` followed by
 * base58btc(multicodec varint ‖ public key), for Ed25519 (0xed, 32-byte key) and P-256 (0x1200,
 * 33-byte compressed SEC1 point). Public keys use the SignatureProvider encodings (crypto/signature.ts).
 */
import { p256 } from '@noble/curves/nist.js'
import { concatBytes } from '../bytes.js'
import { ScittError, malformed } from '../errors.js'
import type { SignatureAlgorithm } from './signature.js'

const PREFIX = 'did:key:z'
/** Longest did:key accepted (a P-256 one is 57 characters). */
const MAX_LENGTH = 128
const ALPHABET = '123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz'
const MULTICODEC_ED25519 = Uint8Array.of(0xed, 0x01)
const MULTICODEC_P256 = Uint8Array.of(0x80, 0x24)

function encodeBase58btc (bytes: Uint8Array): string {
  let value = 0n
  for (const b of bytes) value = (value << 8n) | BigInt(b)
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
    if (digit < 0) throw malformed('did:key: invalid base58btc character')
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

export function isDidKey (iss: string): boolean {
  return iss.startsWith('did:key:')
}

/** The did:key of an Ed25519 or P-256 public key. UNSUPPORTED for other algorithms. */
export function didKeyFromPublicKey (algorithm: SignatureAlgorithm, publicKey: Uint8Array): string {
  if (algorithm === 'Ed25519' && publicKey.length === 32) return PREFIX + encodeBase58btc(concatBytes(MULTICODEC_ED25519, publicKey))
  if (algorithm === 'ES256' && publicKey.length === 65) {
    const compressed = p256.Point.fromBytes(publicKey).toBytes(true)
    return PREFIX + encodeBase58btc(concatBytes(MULTICODEC_P256, compressed))
  }
  throw new ScittError('UNSUPPORTED', `did:key supports Ed25519 and ES256 (P-256) keys, not ${algorithm}`)
}

/** The public key of a did:key; MALFORMED for a bad encoding or point, UNSUPPORTED for other key types. */
export function publicKeyFromDidKey (did: string): { algorithm: SignatureAlgorithm, publicKey: Uint8Array } {
  if (typeof did !== 'string' || !did.startsWith(PREFIX) || did.length > MAX_LENGTH) {
    throw malformed('did:key: expected did:key:z<base58btc>')
  }
  const bytes = decodeBase58btc(did.slice(PREFIX.length))
  if (encodeBase58btc(bytes) !== did.slice(PREFIX.length)) throw malformed('did:key: non-canonical base58btc')
  if (bytes[0] === 0xed && bytes[1] === 0x01) {
    if (bytes.length !== 34) throw malformed('did:key: an Ed25519 key is 32 bytes')
    return { algorithm: 'Ed25519', publicKey: bytes.slice(2) }
  }
  if (bytes[0] === 0x80 && bytes[1] === 0x24) {
    if (bytes.length !== 35 || (bytes[2] !== 2 && bytes[2] !== 3)) throw malformed('did:key: a P-256 key is a 33-byte compressed point')
    try {
      return { algorithm: 'ES256', publicKey: p256.Point.fromBytes(bytes.subarray(2)).toBytes(false) }
    } catch (cause) {
      throw malformed('did:key: not a valid P-256 point', cause)
    }
  }
  throw new ScittError('UNSUPPORTED', 'did:key: only Ed25519 (0xed) and P-256 (0x1200) keys are supported')
}
