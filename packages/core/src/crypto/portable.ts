/** The portable SignatureProvider: @noble/curves, pure JS, runs in browsers. */
import { ed25519 } from '@noble/curves/ed25519.js'
import { p256, p384 } from '@noble/curves/nist.js'
import { randomBytes } from '@noble/hashes/utils.js'
import { assertBytes } from '../bytes.js'
import { malformed } from '../errors.js'
import {
  assertAlgorithm, KEY_SIZES,
  type SignatureAlgorithm, type SignatureProvider, type Signer, type Verifier,
} from './signature.js'

const ECDSA = { ES256: p256, ES384: p384 } as const

function checkKey (algorithm: SignatureAlgorithm, key: Uint8Array, kind: 'publicKey' | 'secretKey'): void {
  assertAlgorithm(algorithm)
  assertBytes(key, kind, KEY_SIZES[algorithm][kind])
}

export const portableSignatures: SignatureProvider = {
  name: 'portable (@noble)',

  verifier (algorithm, publicKey) {
    checkKey(algorithm, publicKey, 'publicKey')
    const sigLength = KEY_SIZES[algorithm].signature
    const key = publicKey.slice()
    if (algorithm === 'Ed25519') {
      return {
        algorithm,
        publicKey: key,
        verify: (message, signature) => signature.length === sigLength &&
          safe(() => ed25519.verify(signature, message, key, { zip215: false })),
      } satisfies Verifier
    }
    const curve = ECDSA[algorithm]
    try {
      curve.Point.fromBytes(key).assertValidity()
    } catch (cause) {
      throw malformed(`${algorithm} public key is not a valid curve point`, cause)
    }
    return {
      algorithm,
      publicKey: key,
      // COSE ECDSA does not require low-S (RFC 9053 §2.1), and node:crypto accepts both: so do we.
      verify: (message, signature) => signature.length === sigLength &&
        safe(() => curve.verify(signature, message, key, { lowS: false, format: 'compact' })),
    } satisfies Verifier
  },

  signer (algorithm, secretKey) {
    checkKey(algorithm, secretKey, 'secretKey')
    const key = secretKey.slice()
    if (algorithm === 'Ed25519') {
      return { algorithm, publicKey: ed25519.getPublicKey(key), sign: (message) => ed25519.sign(message, key) } satisfies Signer
    }
    const curve = ECDSA[algorithm]
    return {
      algorithm,
      publicKey: curve.getPublicKey(key, false),
      sign: (message) => curve.sign(message, key, { format: 'compact' }),
    } satisfies Signer
  },

  generateSecretKey (algorithm) {
    assertAlgorithm(algorithm)
    if (algorithm === 'Ed25519') return randomBytes(32)
    return ECDSA[algorithm].utils.randomSecretKey()
  },
}

function safe (fn: () => boolean): boolean {
  try {
    return fn()
  } catch {
    return false
  }
}
