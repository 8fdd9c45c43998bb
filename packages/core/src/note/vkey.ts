/**
 * C2SP signed-note verifier keys (`<name>+<hex key ID>+<base64(type ‖ public key)>`) and Go's
 * `sumdb/note` signer keys (`PRIVATE+KEY+<name>+<hex key ID>+<base64(0x01 ‖ seed)>`).
 */
import { assertBytes, concatBytes, fromBase64, fromHex, toBase64 } from '../bytes.js'
import { portableSignatures } from '../crypto/portable.js'
import type { SignatureProvider } from '../crypto/signature.js'
import { ScittError, malformed } from '../errors.js'
import { cosignatureSigner, cosignatureVerifier } from './cosignature.js'
import {
  NOTE_KEY_TYPE_COSIGNATURE_V1, NOTE_KEY_TYPE_ED25519,
  assertKeyName, ed25519NoteSigner, ed25519NoteVerifier, formatKeyId, isValidKeyName, keyId,
  type NoteSigner, type NoteVerifier,
} from './signed-note.js'

/** Longest vkey or skey string accepted (an ML-DSA-44 vkey is about 1.8 KB). */
export const MAX_VKEY_LENGTH = 4096

/** Public key length of each supported signature type. */
const PUBLIC_KEY_SIZES: ReadonlyMap<number, number> = new Map([
  [NOTE_KEY_TYPE_ED25519, 32],
  [NOTE_KEY_TYPE_COSIGNATURE_V1, 32],
])

export interface Vkey {
  name: string
  keyId: number
  /** Signature type byte: 0x01 Ed25519 or 0x04 cosignature/v1. */
  type: number
  publicKey: Uint8Array
}

/** `<name>+<8 lowercase hex key ID>+<base64(type ‖ publicKey)>`. */
export function formatVkey (name: string, type: number, publicKey: Uint8Array): string {
  const id = keyId(name, type, publicKey)
  return `${name}+${formatKeyId(id)}+${toBase64(concatBytes(Uint8Array.of(type), publicKey))}`
}

/** Splits `<name>+<hex>+<base64>` strictly; the base64 part may itself contain "+". */
function splitKey (text: string, what: string): { name: string, id: number, key: Uint8Array } {
  const first = text.indexOf('+')
  const second = first < 0 ? -1 : text.indexOf('+', first + 1)
  if (second < 0) throw malformed(`${what} is not <name>+<key ID>+<key>`)
  const name = text.slice(0, first)
  const hex = text.slice(first + 1, second)
  if (!isValidKeyName(name)) throw malformed(`${what} has an invalid key name`)
  if (!/^[0-9a-f]{8}$/.test(hex)) throw malformed(`${what} key ID is not 8 lowercase hex digits`)
  let key: Uint8Array
  try {
    key = fromBase64(text.slice(second + 1))
  } catch (cause) {
    throw malformed(`${what} key is not base64`, cause)
  }
  if (key.length === 0) throw malformed(`${what} key is empty`)
  const id = new DataView(fromHex(hex).buffer).getUint32(0)
  return { name, id, key }
}

function checkLength (text: unknown, what: string): asserts text is string {
  if (typeof text !== 'string') throw new TypeError(`${what} must be a string`)
  if (text.length > MAX_VKEY_LENGTH) throw new ScittError('TOO_LARGE', `${what} is longer than ${MAX_VKEY_LENGTH} characters`)
}

/**
 * Strict vkey parser: MALFORMED on any syntax error, a wrong key length for the type, or a key ID that
 * is not the one computed from name, type and key; UNSUPPORTED for types other than 0x01 and 0x04.
 */
export function parseVkey (vkey: string): Vkey {
  checkLength(vkey, 'vkey')
  const { name, id, key } = splitKey(vkey, 'vkey')
  const type = key[0]!
  const size = PUBLIC_KEY_SIZES.get(type)
  if (size === undefined) throw new ScittError('UNSUPPORTED', `vkey signature type 0x${type.toString(16).padStart(2, '0')} is not supported`)
  const publicKey = key.slice(1)
  if (publicKey.length !== size) throw malformed(`vkey public key is ${publicKey.length} bytes, not ${size}`)
  if (keyId(name, type, publicKey) !== id) throw malformed('vkey key ID does not match its name and key')
  return { name, keyId: id, type, publicKey }
}

/** A note verifier for a vkey: type 0x01 → Ed25519 note signatures, 0x04 → cosignature/v1. */
export function noteVerifierFromVkey (vkey: string, provider: SignatureProvider = portableSignatures): NoteVerifier {
  const parsed = parseVkey(vkey)
  return parsed.type === NOTE_KEY_TYPE_ED25519
    ? ed25519NoteVerifier(parsed.name, parsed.publicKey, provider)
    : cosignatureVerifier(parsed.name, parsed.publicKey, provider)
}

export interface Skey {
  name: string
  /** The key ID of the plain Ed25519 (0x01) public key, as Go writes it. */
  keyId: number
  /** The 32-byte Ed25519 seed. */
  seed: Uint8Array
}

const SKEY_PREFIX = 'PRIVATE+KEY+'

/** Go's `PRIVATE+KEY+<name>+<hex key ID>+<base64(0x01 ‖ seed)>`. */
export function formatSkey (name: string, seed: Uint8Array, provider: SignatureProvider = portableSignatures): string {
  assertKeyName(name)
  assertBytes(seed, 'seed', 32)
  const signer = ed25519NoteSigner(name, seed, provider)
  return `${SKEY_PREFIX}${name}+${formatKeyId(signer.keyId)}+${toBase64(concatBytes(Uint8Array.of(NOTE_KEY_TYPE_ED25519), seed))}`
}

/** Strict skey parser (Ed25519 only, UNSUPPORTED otherwise); the key ID must match the derived public key. */
export function parseSkey (skey: string, provider: SignatureProvider = portableSignatures): Skey {
  checkLength(skey, 'skey')
  if (!skey.startsWith(SKEY_PREFIX)) throw malformed('skey does not start with PRIVATE+KEY+')
  const { name, id, key } = splitKey(skey.slice(SKEY_PREFIX.length), 'skey')
  if (key[0] !== NOTE_KEY_TYPE_ED25519) throw new ScittError('UNSUPPORTED', 'skey signature type is not Ed25519 (0x01)')
  const seed = key.slice(1)
  if (seed.length !== 32) throw malformed(`skey seed is ${seed.length} bytes, not 32`)
  if (ed25519NoteSigner(name, seed, provider).keyId !== id) throw malformed('skey key ID does not match its key')
  return { name, keyId: id, seed }
}

/** A plain Ed25519 note signer (type 0x01) from an skey. */
export function noteSignerFromSkey (skey: string, provider: SignatureProvider = portableSignatures): NoteSigner {
  const { name, seed } = parseSkey(skey, provider)
  return ed25519NoteSigner(name, seed, provider)
}

/** The Ed25519 (type 0x01) vkey of an skey. */
export function vkeyFromSkey (skey: string, provider: SignatureProvider = portableSignatures): string {
  const { name, seed } = parseSkey(skey, provider)
  return formatVkey(name, NOTE_KEY_TYPE_ED25519, provider.signer('Ed25519', seed).publicKey)
}

/** A cosignature/v1 signer (type 0x04) from a Go-format Ed25519 skey (whose own key ID is the 0x01 one). */
export function cosignatureSignerFromSkey (
  skey: string, timestamp: () => number, provider: SignatureProvider = portableSignatures,
): NoteSigner {
  const { name, seed } = parseSkey(skey, provider)
  return cosignatureSigner(name, seed, timestamp, provider)
}
