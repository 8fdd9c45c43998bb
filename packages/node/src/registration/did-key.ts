/**
 * did:key issuers (W3C did:key v0.7): `did:key:z<base58btc(multicodec varint ‖ public key)>`, for
 * Ed25519 (multicodec 0xed, 32-byte key) and P-256 (multicodec 0x1200, 33-byte compressed SEC1 point).
 * The key is the identifier, so no registration of the issuer is needed; the policy decides whether
 * such issuers are accepted at all.
 */
import { createPublicKey } from 'node:crypto'
import { ScittError, concatBytes, fromBase64Url, type SignatureAlgorithm } from '@scitt/core'

const PREFIX = 'did:key:z'
const ALPHABET = '123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz'
/** Longest did:key accepted (a P-256 one is 57 characters). */
const MAX_LENGTH = 128
/** DER SubjectPublicKeyInfo prefix of a compressed P-256 point (RFC 5480). */
const P256_SPKI_PREFIX = Uint8Array.from(Buffer.from('3039301306072a8648ce3d020106082a8648ce3d030107032200', 'hex'))

/** Strict base58btc (Bitcoin alphabet) decoding. */
export function decodeBase58btc (text: string): Uint8Array {
  let value = 0n
  for (const ch of text) {
    const digit = ALPHABET.indexOf(ch)
    if (digit < 0) throw new ScittError('MALFORMED', 'did:key: invalid base58btc character')
    value = value * 58n + BigInt(digit)
  }
  const bytes: number[] = []
  while (value > 0n) {
    bytes.push(Number(value % 256n))
    value /= 256n
  }
  for (const ch of text) {
    if (ch !== '1') break
    bytes.push(0)
  }
  return Uint8Array.from(bytes.reverse())
}

/** Strict base58btc encoding (for tests and for building did:key identifiers). */
export function encodeBase58btc (bytes: Uint8Array): string {
  let value = 0n
  for (const b of bytes) value = value * 256n + BigInt(b)
  let out = ''
  while (value > 0n) {
    out = ALPHABET[Number(value % 58n)]! + out
    value /= 58n
  }
  for (const b of bytes) {
    if (b !== 0) break
    out = '1' + out
  }
  return out
}

export function isDidKey (iss: string): boolean {
  return iss.startsWith('did:key:')
}

/** The public key of a did:key (SignatureProvider encodings); MALFORMED or UNSUPPORTED otherwise. */
export function didKeyPublicKey (did: string): { algorithm: SignatureAlgorithm, publicKey: Uint8Array } {
  if (!did.startsWith(PREFIX) || did.length > MAX_LENGTH) throw new ScittError('MALFORMED', 'did:key: expected did:key:z<base58btc>')
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

/** The uncompressed SEC1 point of a compressed P-256 point (node:crypto checks it is on the curve). */
function decompressP256 (compressed: Uint8Array): Uint8Array {
  try {
    const jwk = createPublicKey({ key: Buffer.from(concatBytes(P256_SPKI_PREFIX, compressed)), format: 'der', type: 'spki' }).export({ format: 'jwk' })
    return concatBytes(Uint8Array.of(4), fromBase64Url(jwk.x!), fromBase64Url(jwk.y!))
  } catch (cause) {
    throw new ScittError('MALFORMED', 'did:key: not a valid P-256 point', { cause })
  }
}
