/**
 * The node:crypto SignatureProvider: the same contract as core's `portableSignatures` (key and signature
 * encodings in @scitt/core crypto/signature.ts), 15–30× faster. Each verifier and signer holds its
 * KeyObject, created once.
 */
import { createECDH, createHash, createPrivateKey, hash, createPublicKey, generateKeyPairSync, sign, verify, type KeyObject } from 'node:crypto'
import {
  assertAlgorithm, assertBytes, KEY_SIZES, malformed, setSha256, toBase64Url,
  type Sha256, type SignatureAlgorithm, type SignatureProvider,
} from '@scitt/core'

const CURVES = { ES256: 'P-256', ES384: 'P-384' } as const
const DIGESTS = { ES256: 'sha256', ES384: 'sha384' } as const
const ECDH_CURVES = { ES256: 'prime256v1', ES384: 'secp384r1' } as const

function publicKeyObject (algorithm: SignatureAlgorithm, publicKey: Uint8Array): KeyObject {
  try {
    if (algorithm === 'Ed25519') {
      return createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: toBase64Url(publicKey) }, format: 'jwk' })
    }
    if (publicKey[0] !== 4) throw new Error('not an uncompressed SEC1 point')
    const n = (publicKey.length - 1) / 2
    return createPublicKey({
      key: { kty: 'EC', crv: CURVES[algorithm], x: toBase64Url(publicKey.subarray(1, 1 + n)), y: toBase64Url(publicKey.subarray(1 + n)) },
      format: 'jwk',
    })
  } catch (cause) {
    throw malformed(`${algorithm} public key is not valid`, cause)
  }
}

function rawPublicKey (algorithm: SignatureAlgorithm, key: KeyObject): Uint8Array {
  const jwk = key.export({ format: 'jwk' })
  const x = Buffer.from(jwk.x!, 'base64url')
  if (algorithm === 'Ed25519') return new Uint8Array(x)
  return new Uint8Array(Buffer.concat([Buffer.from([4]), x, Buffer.from(jwk.y!, 'base64url')]))
}

function privateKeyObject (algorithm: SignatureAlgorithm, secretKey: Uint8Array): KeyObject {
  if (algorithm === 'Ed25519') {
    // PKCS#8 wrapping of a raw Ed25519 seed (RFC 8410 §7).
    const prefix = Buffer.from('302e020100300506032b657004220420', 'hex')
    return createPrivateKey({ key: Buffer.concat([prefix, secretKey]), format: 'der', type: 'pkcs8' })
  }
  // A JWK private key needs its public point too: derive it from the scalar.
  const ecdh = createECDH(ECDH_CURVES[algorithm])
  ecdh.setPrivateKey(secretKey)
  const point = ecdh.getPublicKey()
  const n = (point.length - 1) / 2
  return createPrivateKey({
    key: {
      kty: 'EC', crv: CURVES[algorithm], d: toBase64Url(secretKey),
      x: toBase64Url(point.subarray(1, 1 + n)), y: toBase64Url(point.subarray(1 + n)),
    },
    format: 'jwk',
  })
}

export const nodeSignatures: SignatureProvider = {
  name: 'node:crypto',

  verifier (algorithm, publicKey) {
    assertAlgorithm(algorithm)
    assertBytes(publicKey, 'publicKey', KEY_SIZES[algorithm].publicKey)
    const key = publicKeyObject(algorithm, publicKey)
    const sigLength = KEY_SIZES[algorithm].signature
    const options = algorithm === 'Ed25519' ? key : { key, dsaEncoding: 'ieee-p1363' as const }
    const digest = algorithm === 'Ed25519' ? null : DIGESTS[algorithm]
    return {
      algorithm,
      publicKey: publicKey.slice(),
      verify (message, signature) {
        if (signature.length !== sigLength) return false
        try {
          return verify(digest, message, options, signature)
        } catch {
          return false
        }
      },
    }
  },

  signer (algorithm, secretKey) {
    assertAlgorithm(algorithm)
    assertBytes(secretKey, 'secretKey', KEY_SIZES[algorithm].secretKey)
    const key = privateKeyObject(algorithm, secretKey)
    const options = algorithm === 'Ed25519' ? key : { key, dsaEncoding: 'ieee-p1363' as const }
    const digest = algorithm === 'Ed25519' ? null : DIGESTS[algorithm]
    return {
      algorithm,
      publicKey: rawPublicKey(algorithm, createPublicKey(key)),
      sign: (message) => new Uint8Array(sign(digest, message, options)),
    }
  },

  generateSecretKey (algorithm) {
    assertAlgorithm(algorithm)
    if (algorithm === 'Ed25519') {
      const { privateKey } = generateKeyPairSync('ed25519')
      return new Uint8Array(Buffer.from(privateKey.export({ format: 'jwk' }).d!, 'base64url'))
    }
    const { privateKey } = generateKeyPairSync('ec', { namedCurve: CURVES[algorithm] })
    return new Uint8Array(Buffer.from(privateKey.export({ format: 'jwk' }).d!, 'base64url'))
  },
}

/** SHA-256 with node:crypto, for core's `setSha256`; returns plain Uint8Array views. */
export const nodeSha256: Sha256 = (...parts) => {
  let d: Buffer
  if (parts.length === 1) {
    d = hash('sha256', parts[0]!, 'buffer')
  } else {
    const h = createHash('sha256')
    for (const p of parts) h.update(p)
    d = h.digest()
  }
  return new Uint8Array(d.buffer, d.byteOffset, d.length)
}

/** Makes every hash in @scitt/core use node:crypto in this process (call once at start-up). */
export function useNodeSha256 (): void {
  setSha256(nodeSha256)
}
