/**
 * The one signature interface of the project. Core's default (`portableSignatures`, @noble) runs
 * anywhere; Node processes plug in `@scitt/node-crypto` (cached KeyObjects) on their hot paths.
 *
 * Key encodings, the same for every provider:
 * - Ed25519: public key = 32 raw bytes (RFC 8032); secret key = the 32-byte seed.
 * - ES256 / ES384: public key = uncompressed SEC1 point (65 / 97 bytes); secret key = the scalar
 *   (32 / 48 bytes, big-endian).
 * - Signatures: Ed25519 64 bytes; ECDSA r ‖ s (IEEE P1363, 64 / 96 bytes), as COSE (RFC 9053 §2.1) uses.
 */
export type SignatureAlgorithm = 'Ed25519' | 'ES256' | 'ES384'

export const SIGNATURE_ALGORITHMS: readonly SignatureAlgorithm[] = ['Ed25519', 'ES256', 'ES384']

export interface KeySizes { publicKey: number, secretKey: number, signature: number }

export const KEY_SIZES: Readonly<Record<SignatureAlgorithm, KeySizes>> = {
  Ed25519: { publicKey: 32, secretKey: 32, signature: 64 },
  ES256: { publicKey: 65, secretKey: 32, signature: 64 },
  ES384: { publicKey: 97, secretKey: 48, signature: 96 },
}

/** Verifies signatures for one public key. Build once per key and reuse: providers cache parsed keys. */
export interface Verifier {
  readonly algorithm: SignatureAlgorithm
  readonly publicKey: Uint8Array
  /** False for any signature that does not verify, including one of the wrong length. Never throws on bad input. */
  verify (message: Uint8Array, signature: Uint8Array): boolean
}

/** Signs with one secret key. */
export interface Signer {
  readonly algorithm: SignatureAlgorithm
  readonly publicKey: Uint8Array
  sign (message: Uint8Array): Uint8Array
}

export interface SignatureProvider {
  readonly name: string
  /** RangeError when the key has the wrong length; MALFORMED when it is not a valid point. */
  verifier (algorithm: SignatureAlgorithm, publicKey: Uint8Array): Verifier
  /** RangeError when the key has the wrong length. */
  signer (algorithm: SignatureAlgorithm, secretKey: Uint8Array): Signer
  /** A fresh random secret key. */
  generateSecretKey (algorithm: SignatureAlgorithm): Uint8Array
}

export function assertAlgorithm (algorithm: unknown): asserts algorithm is SignatureAlgorithm {
  if (!SIGNATURE_ALGORITHMS.includes(algorithm as SignatureAlgorithm)) {
    throw new TypeError(`unknown signature algorithm ${String(algorithm)}`)
  }
}
