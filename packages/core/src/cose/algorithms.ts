/** COSE algorithm identifiers (RFC 9053 §2, IANA "COSE Algorithms") for the signature algorithms we support. */
import { ScittError } from '../errors.js'
import { assertAlgorithm, type SignatureAlgorithm } from '../crypto/signature.js'

export const COSE_ALGORITHMS: Readonly<Record<SignatureAlgorithm, number>> = {
  Ed25519: -8, // EdDSA (RFC 9053 §2.2); the only EdDSA curve we accept is Ed25519
  ES256: -7,
  ES384: -35,
}

/** The COSE alg id of a signature algorithm. */
export function coseAlgorithm (algorithm: SignatureAlgorithm): number {
  assertAlgorithm(algorithm)
  return COSE_ALGORITHMS[algorithm]
}

/** The signature algorithm of a COSE alg value; anything else (another id, a tstr) is UNSUPPORTED. */
export function signatureAlgorithmFromCose (alg: unknown): SignatureAlgorithm {
  for (const [name, id] of Object.entries(COSE_ALGORITHMS)) {
    if (alg === id) return name as SignatureAlgorithm
  }
  throw new ScittError('UNSUPPORTED', `unsupported COSE algorithm ${typeof alg === 'string' ? JSON.stringify(alg) : String(alg)}`)
}
