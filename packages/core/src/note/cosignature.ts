/**
 * C2SP tlog-cosignature v1.0.1, Ed25519 "cosignature/v1" (signature type 0x04): the note signature is
 * u64be(timestamp) ‖ Ed25519 signature over
 * "cosignature/v1\ntime <timestamp>\n" ‖ <checkpoint text, extension lines included>.
 */
import { assertBytes, concatBytes, readU64be, u64be, utf8 } from '../bytes.js'
import { portableSignatures } from '../crypto/portable.js'
import type { SignatureProvider } from '../crypto/signature.js'
import { malformed } from '../errors.js'
import { parseCheckpoint } from './checkpoint.js'
import {
  NOTE_KEY_TYPE_COSIGNATURE_V1, assertKeyName, keyId,
  type NoteSignature, type NoteSigner, type NoteVerifier,
} from './signed-note.js'
import { assertSafeSize } from './text.js'

/** Length of a cosignature/v1 note signature after the key ID: 8-byte timestamp + 64-byte signature. */
export const COSIGNATURE_V1_SIZE = 72

const MAX_TIMESTAMP = 2n ** 63n - 1n

function messageBytes (text: Uint8Array, timestamp: bigint | number): Uint8Array {
  return concatBytes(utf8(`cosignature/v1\ntime ${timestamp}\n`), text)
}

/** The signed message for `timestamp` (POSIX seconds, a safe integer) over a checkpoint's note text. */
export function cosignatureMessage (checkpointText: string, timestamp: number): Uint8Array {
  if (typeof checkpointText !== 'string') throw new TypeError('checkpointText must be a string')
  assertSafeSize(timestamp, 'timestamp')
  return messageBytes(utf8(checkpointText), timestamp)
}

/**
 * A cosignature/v1 signer. `timestamp` is read once per signature (POSIX seconds; core reads no clock).
 * It signs whatever text it is given: use `cosignCheckpoint` to check that the text is a checkpoint.
 */
export function cosignatureSigner (
  name: string, secretKey: Uint8Array, timestamp: () => number, provider: SignatureProvider = portableSignatures,
): NoteSigner {
  assertKeyName(name)
  const signer = provider.signer('Ed25519', secretKey)
  return {
    name,
    keyId: keyId(name, NOTE_KEY_TYPE_COSIGNATURE_V1, signer.publicKey),
    sign (text) {
      const t = timestamp()
      assertSafeSize(t, 'timestamp')
      return concatBytes(u64be(t), signer.sign(messageBytes(text, t)))
    },
  }
}

/**
 * A cosignature/v1 verifier. It accepts any timestamp up to 2^63-1 (the spec's bound); callers that
 * want to refuse timestamps in the future read them with `parseCosignature`.
 */
export function cosignatureVerifier (name: string, publicKey: Uint8Array, provider: SignatureProvider = portableSignatures): NoteVerifier {
  const id = keyId(name, NOTE_KEY_TYPE_COSIGNATURE_V1, publicKey)
  const verifier = provider.verifier('Ed25519', publicKey)
  return {
    name,
    keyId: id,
    verify (text, signature) {
      if (!(signature instanceof Uint8Array) || signature.length !== COSIGNATURE_V1_SIZE) return false
      const t = new DataView(signature.buffer, signature.byteOffset, 8).getBigUint64(0)
      if (t > MAX_TIMESTAMP) return false
      return verifier.verify(messageBytes(text, t), signature.subarray(8))
    },
  }
}

/** Splits a cosignature/v1 signature; MALFORMED unless 72 bytes with a timestamp ≤ 2^53-1. */
export function parseCosignature (sig: NoteSignature): { timestamp: number, signature: Uint8Array } {
  assertBytes(sig.signature, 'signature')
  if (sig.signature.length !== COSIGNATURE_V1_SIZE) {
    throw malformed(`cosignature is ${sig.signature.length} bytes, not ${COSIGNATURE_V1_SIZE}`)
  }
  return { timestamp: readU64be(sig.signature, 0), signature: sig.signature.slice(8) }
}

/**
 * Cosigns a checkpoint's note text (MALFORMED unless it parses as a checkpoint) and returns the
 * signature, ready for `formatSignatureLine` / `formatCosignatureLines`.
 */
export function cosignCheckpoint (checkpointText: string, cosigner: NoteSigner): NoteSignature {
  parseCheckpoint(checkpointText)
  return { name: cosigner.name, keyId: cosigner.keyId, signature: cosigner.sign(utf8(checkpointText)) }
}
