/**
 * Key material a client handles, portable: issuer secret keys as private JWKs (RFC 7517, RFC 8037;
 * the same form as the node's receipt key file), public keys in any of the forms people pass around
 * (COSE_Key, COSE_KeySet, JWK, JWK Set, did:key), and a trusted key set that resolves a receipt or
 * statement kid to a verifier. kids are matched against a key's own kid and its RFC 9679 thumbprint.
 */
import {
  ScittError, coseKeyFromJwk, coseKeyThumbprint, decodeCbor, decodeCoseKey, decodeCoseKeySet, encodeCoseKey, equalBytes, fromBase64Url, fromUtf8,
  portableSignatures, toBase64Url, toHex, utf8,
  type CoseKey, type PublicJwk, type SignatureAlgorithm, type SignatureProvider, type Signer, type Verifier,
} from '@scitt/core'
import { didKeyFromPublicKey, isDidKey, publicKeyFromDidKey } from '@scitt/core'

const JWK_CURVE: Readonly<Record<SignatureAlgorithm, { kty: string, crv: string, alg: string }>> = {
  Ed25519: { kty: 'OKP', crv: 'Ed25519', alg: 'EdDSA' },
  ES256: { kty: 'EC', crv: 'P-256', alg: 'ES256' },
  ES384: { kty: 'EC', crv: 'P-384', alg: 'ES384' },
}

export interface SecretKeyJwk {
  kty: string
  crv: string
  alg: string
  /** base64url of the RFC 9679 thumbprint: the kid statements signed with this key carry. */
  kid: string
  x: string
  y?: string
  d: string
}

/** The public JWK members of a public key. */
export function publicJwk (key: CoseKey): PublicJwk & { alg: string } {
  const { kty, crv, alg } = JWK_CURVE[key.algorithm]
  if (key.algorithm === 'Ed25519') return { kty, crv, alg, x: toBase64Url(key.publicKey) }
  const n = (key.publicKey.length - 1) / 2
  return { kty, crv, alg, x: toBase64Url(key.publicKey.subarray(1, 1 + n)), y: toBase64Url(key.publicKey.subarray(1 + n)) }
}

/** A private JWK for a secret key, with kid = base64url(thumbprint). */
export function secretKeyJwk (algorithm: SignatureAlgorithm, secretKey: Uint8Array, provider: SignatureProvider = portableSignatures): SecretKeyJwk {
  const signer = provider.signer(algorithm, secretKey)
  const key: CoseKey = { algorithm, publicKey: signer.publicKey }
  return { ...publicJwk(key), kid: toBase64Url(coseKeyThumbprint(key)), d: toBase64Url(secretKey) }
}

export interface IssuerSigner {
  signer: Signer
  /** The public key, with kid = its RFC 9679 thumbprint. */
  key: CoseKey & { kid: Uint8Array }
}

/** A signer from a private JWK (Ed25519, P-256, P-384); MALFORMED or UNSUPPORTED otherwise. */
export function signerFromJwk (jwk: unknown, provider: SignatureProvider = portableSignatures): IssuerSigner {
  if (typeof jwk !== 'object' || jwk === null) throw new ScittError('MALFORMED', 'secret key: expected a JSON private JWK')
  const { kty, crv, d } = jwk as Record<string, unknown>
  const entry = Object.entries(JWK_CURVE).find(([, c]) => c.kty === kty && c.crv === crv)
  if (entry === undefined) throw new ScittError('UNSUPPORTED', `secret key: unsupported kty/crv ${String(kty)}/${String(crv)}`)
  if (typeof d !== 'string') throw new ScittError('MALFORMED', 'secret key: the JWK has no private member "d"')
  const algorithm = entry[0] as SignatureAlgorithm
  let signer: Signer
  try {
    signer = provider.signer(algorithm, fromBase64Url(d))
  } catch (cause) {
    throw new ScittError('MALFORMED', `secret key: not a valid ${algorithm} private key`, { cause })
  }
  const key: CoseKey = { algorithm, publicKey: signer.publicKey }
  return { signer, key: { ...key, kid: coseKeyThumbprint(key) } }
}

function fromJwk (jwk: Record<string, unknown>): CoseKey {
  const { d: _secret, kid, ...rest } = jwk
  const key = coseKeyFromJwk(rest as unknown as PublicJwk)
  return typeof kid === 'string' ? { ...key, kid: utf8(kid) } : key
}

/**
 * Public keys from a file's bytes: a did:key line, a JSON JWK (a private one gives its public part),
 * a JWK Set `{"keys": [...]}`, a CBOR COSE_Key or a COSE_KeySet. MALFORMED / UNSUPPORTED otherwise.
 */
export function parsePublicKeys (bytes: Uint8Array): CoseKey[] {
  let text: string | undefined
  try {
    text = fromUtf8(bytes).trim()
  } catch {}
  if (text !== undefined && isDidKey(text)) {
    const { algorithm, publicKey } = publicKeyFromDidKey(text)
    return [{ algorithm, publicKey }]
  }
  if (text !== undefined && text.startsWith('{')) {
    let json: Record<string, unknown>
    try {
      json = JSON.parse(text) as Record<string, unknown>
    } catch (cause) {
      throw new ScittError('MALFORMED', 'key file: invalid JSON', { cause })
    }
    if (Array.isArray(json.keys)) return json.keys.map((k) => fromJwk(k as Record<string, unknown>))
    return [fromJwk(json)]
  }
  const value = decodeCbor(bytes, { maxSize: 1 << 20, maxDepth: 4 })
  return Array.isArray(value) ? decodeCoseKeySet(bytes) : [decodeCoseKey(bytes)]
}

/** Keys a caller trusts, resolved by kid (own kid or thumbprint) into cached verifiers. */
export class TrustedKeys {
  readonly keys: readonly CoseKey[]
  readonly #provider: SignatureProvider
  readonly #ids: Uint8Array[][]
  readonly #verifiers = new Map<number, Verifier>()

  constructor (keys: readonly CoseKey[], provider: SignatureProvider = portableSignatures) {
    this.keys = keys
    this.#provider = provider
    this.#ids = keys.map((k) => [...(k.kid === undefined ? [] : [k.kid]), coseKeyThumbprint(k)])
  }

  get size (): number {
    return this.keys.length
  }

  #verifier (i: number): Verifier {
    let v = this.#verifiers.get(i)
    if (v === undefined) {
      const key = this.keys[i]!
      v = this.#provider.verifier(key.algorithm, key.publicKey)
      this.#verifiers.set(i, v)
    }
    return v
  }

  /** Verifiers for a kid: the keys it names; with no kid, every key. */
  lookup (kid: Uint8Array | undefined): Verifier[] {
    const out: Verifier[] = []
    this.#ids.forEach((ids, i) => {
      if (kid === undefined || ids.some((id) => equalBytes(id, kid))) out.push(this.#verifier(i))
    })
    return out
  }
}

/** Public facts about a key, for printing: kid (hex and base64url), COSE_Key (base64url), JWK, did:key. */
export interface KeyDescription {
  algorithm: SignatureAlgorithm
  kid: string
  kidBase64url: string
  coseKey: string
  jwk: PublicJwk & { kid: string }
  didKey?: string
}

export function describeKey (key: CoseKey & { kid: Uint8Array }): KeyDescription {
  let did: string | undefined
  try {
    did = didKeyFromPublicKey(key.algorithm, key.publicKey)
  } catch {}
  return {
    algorithm: key.algorithm,
    kid: toHex(key.kid),
    kidBase64url: toBase64Url(key.kid),
    coseKey: toBase64Url(encodeCoseKey(key)),
    jwk: { ...publicJwk(key), kid: toBase64Url(key.kid) },
    ...(did === undefined ? {} : { didKey: did }),
  }
}
