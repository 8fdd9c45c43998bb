/**
 * The checks of one registration, in the order SCRAPI and RFC 9943 §5.1.1 ask for, after the HTTP
 * size limit: strict decoding of the Signed Statement, the registration policy, then the issuer
 * signature. The output is the entry of our leaf profile and its id. Runs on the verify workers.
 */
import {
  ScittError, decodeSign1, entryBytes, entryId, isScittError, validateStatement, verifySign1,
  type SignatureAlgorithm, type StatementInfo, type Verifier,
} from '@scitt/core'
import { nodeSignatures } from '@scitt/node-crypto'
import { RegistrationPolicy, titled } from './policy.js'

export interface CheckedStatement {
  entry: Uint8Array
  entryId: string
  iss: string
}

/**
 * Verifiers with their node:crypto KeyObjects, kept per key (least recently used beyond `max`). The
 * policy hands out the same key bytes for a configured issuer every time: those are found by identity
 * first, without encoding the key (so key bytes given to `get` must not be changed afterwards).
 */
export class VerifierCache {
  readonly #map = new Map<string, Verifier>()
  readonly #byBytes = new WeakMap<Uint8Array, Verifier>()
  constructor (readonly max = 4096) {}

  get (algorithm: SignatureAlgorithm, publicKey: Uint8Array): Verifier {
    const known = this.#byBytes.get(publicKey)
    if (known !== undefined && known.algorithm === algorithm) return known
    const key = `${algorithm}:${Buffer.from(publicKey.buffer, publicKey.byteOffset, publicKey.length).toString('base64')}`
    let verifier = this.#map.get(key)
    if (verifier !== undefined) {
      this.#map.delete(key)
    } else {
      verifier = nodeSignatures.verifier(algorithm, publicKey)
      if (this.#map.size >= this.max) this.#map.delete(this.#map.keys().next().value!)
    }
    this.#map.set(key, verifier)
    this.#byBytes.set(publicKey, verifier)
    return verifier
  }
}

export function checkStatement (body: Uint8Array, policy: RegistrationPolicy, verifiers: VerifierCache): CheckedStatement {
  const sign1 = decodeSign1(body, { maxSize: body.length, maxDepth: 16, maxItems: 65536 })
  let info: StatementInfo
  try {
    info = validateStatement(sign1)
  } catch (err) {
    if (isScittError(err, 'UNSUPPORTED') && /algorithm/.test(err.message)) throw titled('UNSUPPORTED', 'Bad Signature Algorithm', err.message)
    throw err
  }
  if (sign1.payload === null) throw titled('MALFORMED', 'Payload Missing', 'the statement payload is detached; register it attached (or as a hash envelope)')
  const entry = entryBytes(sign1)
  if (entry.length > policy.config.maxStatementSize) {
    throw new ScittError('TOO_LARGE', `the statement is ${entry.length} bytes; entries must fit ${policy.config.maxStatementSize} bytes: register a hash envelope (RFC 9995) of larger content`)
  }
  const key = policy.keyFor(info)
  verifySign1(sign1, verifiers.get(key.algorithm, key.publicKey))
  return { entry, entryId: entryId(entry), iss: info.iss }
}
