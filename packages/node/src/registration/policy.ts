/**
 * The registration policy (RFC 9943 §5.1.1.1, docs/architecture.md "Data flows"): which
 * issuers may register (by `iss`, with their keys as COSE_Key or JWK; or did:key issuers when the
 * policy enables them), with which algorithms and content types. It picks the key that must have
 * signed a statement; the signature itself is checked afterwards (check.ts).
 */
import {
  ScittError, coseKeyFromJwk, isDidKey, publicKeyFromDidKey, coseKeyThumbprint, decodeCoseKey, equalBytes, fromBase64Url, utf8,
  type CoseKey, type PublicJwk, type SignatureAlgorithm, type StatementInfo,
} from '@scitt/core'
import { ConfigError, type RegistrationConfig } from '../config.js'

/** The key a statement must verify under. */
export interface IssuerKey {
  algorithm: SignatureAlgorithm
  publicKey: Uint8Array
}

interface KnownKey extends IssuerKey {
  /** kids that select this key: its own kid (COSE_Key kid, or a JWK kid as UTF-8) and its RFC 9679 thumbprint. */
  kids: Uint8Array[]
}

/** A ScittError whose problem-details title is given (see http/problem.ts). */
export function titled (code: ScittError['code'], title: string, message: string): ScittError {
  return new ScittError(code, message, { details: { title } })
}

function compileKey (key: RegistrationConfig['issuers'][number]['keys'][number], field: string): KnownKey {
  let coseKey: CoseKey
  const kids: Uint8Array[] = []
  try {
    if ('jwk' in key) {
      coseKey = coseKeyFromJwk(key.jwk as unknown as PublicJwk)
      if (typeof key.jwk.kid === 'string') kids.push(utf8(key.jwk.kid))
    } else {
      coseKey = decodeCoseKey(fromBase64Url(key.coseKey))
    }
  } catch (err) {
    throw new ConfigError(field, `expected a public Ed25519, P-256 or P-384 key (${(err as Error).message})`)
  }
  if (coseKey.kid !== undefined) kids.push(coseKey.kid)
  kids.push(coseKeyThumbprint(coseKey))
  return { algorithm: coseKey.algorithm, publicKey: coseKey.publicKey, kids }
}

export class RegistrationPolicy {
  readonly config: RegistrationConfig
  readonly #issuers = new Map<string, KnownKey[]>()

  /** ConfigError (naming the field) for a key that cannot be imported. */
  constructor (config: RegistrationConfig) {
    this.config = config
    config.issuers.forEach((issuer, i) => {
      const keys = issuer.keys.map((k, j) => compileKey(k, `registration.issuers[${i}].keys[${j}]`))
      this.#issuers.set(issuer.iss, [...(this.#issuers.get(issuer.iss) ?? []), ...keys])
    })
  }

  /**
   * The key that must have signed a statement with these (validated) headers. Errors:
   * UNSUPPORTED "Bad Signature Algorithm" for an algorithm the policy does not allow; POLICY
   * "Rejected" for an issuer, content type or form the policy does not allow; UNKNOWN_KEY "Rejected"
   * when no key of an allowed issuer matches the kid.
   */
  keyFor (info: StatementInfo): IssuerKey {
    const { config } = this
    if (!config.algorithms.includes(info.alg)) throw titled('UNSUPPORTED', 'Bad Signature Algorithm', `algorithm ${info.alg} is not allowed by the registration policy`)
    if (config.requireHashEnvelope && info.hashEnvelope === undefined) throw titled('POLICY', 'Rejected', 'the registration policy requires a hash envelope (RFC 9995)')
    if (config.contentTypes !== undefined && (info.contentType === undefined || !config.contentTypes.includes(info.contentType))) {
      throw titled('POLICY', 'Rejected', `content type ${JSON.stringify(info.contentType ?? null)} is not allowed by the registration policy`)
    }
    if (isDidKey(info.iss)) {
      if (!config.didKey.enabled) throw titled('POLICY', 'Rejected', 'did:key issuers are not allowed by the registration policy')
      let key: IssuerKey
      try {
        key = publicKeyFromDidKey(info.iss)
      } catch (err) {
        throw titled('POLICY', 'Rejected', `issuer is not a usable did:key (${(err as Error).message})`)
      }
      if (!(config.didKey.algorithms as string[]).includes(key.algorithm)) throw titled('POLICY', 'Rejected', `did:key ${key.algorithm} issuers are not allowed by the registration policy`)
      return key
    }
    const keys = this.#issuers.get(info.iss)
    if (keys === undefined) throw titled('POLICY', 'Rejected', `issuer ${JSON.stringify(info.iss)} is not allowed by the registration policy`)
    const kid = info.kid
    const key = kid === undefined ? undefined : keys.find((k) => k.kids.some((id) => equalBytes(id, kid)))
    if (key === undefined) throw titled('UNKNOWN_KEY', 'Rejected', `no key of issuer ${JSON.stringify(info.iss)} matches the statement's kid`)
    return key
  }
}
