/**
 * C2SP signed-note v1.0.0: a UTF-8 text ending in "\n", a blank line, then one or more lines
 * `— <key name> base64(key ID[4] ‖ signature)`.
 */
import { assertBytes, concatBytes, fromBase64, toBase64, utf8 } from '../bytes.js'
import { portableSignatures } from '../crypto/portable.js'
import type { SignatureProvider } from '../crypto/signature.js'
import { ScittError, malformed } from '../errors.js'
import { checkText, decodeText } from './text.js'
import { sha256Digest } from '../merkle/hash.js'

/**
 * Largest note accepted, in bytes: 1 MiB. A checkpoint with the maximum 100 signatures of the largest
 * type in use (ML-DSA-44, about 3.3 KB of base64 each) stays well below it, and the bound keeps
 * parsing and verification work small. (Go's `sumdb/note` has no byte limit, only the 100 signatures.)
 */
export const MAX_NOTE_SIZE = 1_048_576
/** Most signature lines accepted on one note, as Go's `sumdb/note` (the spec asks for at least 16). */
export const MAX_NOTE_SIGNATURES = 100

/** Signature type byte of plain Ed25519 note signatures. */
export const NOTE_KEY_TYPE_ED25519 = 0x01
/** Signature type byte of C2SP tlog-cosignature/v1 (timestamped Ed25519) signatures. */
export const NOTE_KEY_TYPE_COSIGNATURE_V1 = 0x04

export interface NoteSignature {
  name: string
  /** uint32 key ID. */
  keyId: number
  /** The signature bytes after the 4-byte key ID. */
  signature: Uint8Array
}

export interface Note {
  /** The signed text, ending with "\n". */
  text: string
  signatures: NoteSignature[]
}

/** Checks one note signature by (name, key ID). */
export interface NoteVerifier {
  readonly name: string
  readonly keyId: number
  /** False for any signature that does not verify. Never throws on bad input. */
  verify (text: Uint8Array, signature: Uint8Array): boolean
}

/** Produces note signatures under (name, key ID). */
export interface NoteSigner {
  readonly name: string
  readonly keyId: number
  sign (text: Uint8Array): Uint8Array
}

const EM_DASH_PREFIX = '\u2014 '
const WHITE_SPACE = /\p{White_Space}/u
const CONTROL_OR_LONE_SURROGATE = /[\u0000-\u001f\ud800-\udfff]/u

/** A key name: non-empty, no Unicode white space, no "+", no control character. */
export function isValidKeyName (name: unknown): name is string {
  return typeof name === 'string' && name !== '' && !name.includes('+') &&
    !WHITE_SPACE.test(name) && !CONTROL_OR_LONE_SURROGATE.test(name)
}

export function assertKeyName (name: unknown): asserts name is string {
  if (!isValidKeyName(name)) throw new RangeError(`invalid note key name ${JSON.stringify(name)}`)
}

function assertKeyId (keyId: unknown): asserts keyId is number {
  if (typeof keyId !== 'number' || !Number.isInteger(keyId) || keyId < 0 || keyId > 0xffffffff) {
    throw new RangeError('key ID must be a uint32')
  }
}

/** The key ID as 8 lowercase hex digits, as in vkeys. */
export function formatKeyId (keyId: number): string {
  assertKeyId(keyId)
  return keyId.toString(16).padStart(8, '0')
}

function u32be (value: number): Uint8Array {
  const out = new Uint8Array(4)
  new DataView(out.buffer).setUint32(0, value)
  return out
}

function readU32be (bytes: Uint8Array): number {
  return new DataView(bytes.buffer, bytes.byteOffset, 4).getUint32(0)
}

/** Key ID = first 4 bytes of SHA-256(name ‖ 0x0A ‖ type ‖ public key), big-endian (C2SP signed-note). */
export function keyId (name: string, type: number, publicKey: Uint8Array): number {
  assertKeyName(name)
  if (!Number.isInteger(type) || type < 0 || type > 255) throw new RangeError('signature type must be a byte')
  assertBytes(publicKey, 'publicKey')
  const digest = sha256Digest(utf8(name), Uint8Array.of(0x0a, type), publicKey)
  return readU32be(digest)
}

/** Plain Ed25519 note verifier (type 0x01). */
export function ed25519NoteVerifier (name: string, publicKey: Uint8Array, provider: SignatureProvider = portableSignatures): NoteVerifier {
  const id = keyId(name, NOTE_KEY_TYPE_ED25519, publicKey)
  const verifier = provider.verifier('Ed25519', publicKey)
  return { name, keyId: id, verify: (text, signature) => verifier.verify(text, signature) }
}

/** Plain Ed25519 note signer (type 0x01) from a 32-byte seed. */
export function ed25519NoteSigner (name: string, secretKey: Uint8Array, provider: SignatureProvider = portableSignatures): NoteSigner {
  assertKeyName(name)
  const signer = provider.signer('Ed25519', secretKey)
  return { name, keyId: keyId(name, NOTE_KEY_TYPE_ED25519, signer.publicKey), sign: (text) => signer.sign(text) }
}

/** One signature line, `— <name> <base64(keyID ‖ signature)>\n`. */
export function formatSignatureLine (sig: NoteSignature): string {
  assertKeyName(sig.name)
  assertKeyId(sig.keyId)
  assertBytes(sig.signature, 'signature')
  if (sig.signature.length === 0) throw new RangeError('signature must not be empty')
  return `${EM_DASH_PREFIX}${sig.name} ${toBase64(concatBytes(u32be(sig.keyId), sig.signature))}\n`
}

/** Parses one signature line without its final "\n" (MALFORMED on any deviation). */
export function parseSignatureLine (line: string): NoteSignature {
  if (!line.startsWith(EM_DASH_PREFIX)) throw malformed('signature line does not start with "— "')
  const rest = line.slice(EM_DASH_PREFIX.length)
  const space = rest.indexOf(' ')
  if (space < 0) throw malformed('signature line has no space after the key name')
  const name = rest.slice(0, space)
  if (!isValidKeyName(name)) throw malformed('invalid key name in signature line')
  let bytes: Uint8Array
  try {
    bytes = fromBase64(rest.slice(space + 1))
  } catch (cause) {
    throw malformed('signature is not base64', cause)
  }
  if (bytes.length < 5) throw malformed('signature is shorter than 5 bytes')
  return { name, keyId: readU32be(bytes), signature: bytes.slice(4) }
}

/**
 * Parses "\n"-terminated signature lines (one or more). At most MAX_NOTE_SIGNATURES (TOO_LARGE);
 * two signatures with the same (name, key ID) are MALFORMED.
 */
export function parseSignatureLines (block: string): NoteSignature[] {
  if (block === '' || !block.endsWith('\n')) throw malformed('signature block must be non-empty lines ending in "\\n"')
  const lines = block.slice(0, -1).split('\n')
  if (lines.length > MAX_NOTE_SIGNATURES) throw new ScittError('TOO_LARGE', `more than ${MAX_NOTE_SIGNATURES} signatures`)
  const signatures = lines.map(parseSignatureLine)
  assertNoDuplicates(signatures, (message) => malformed(message))
  return signatures
}

function assertNoDuplicates (signatures: NoteSignature[], fail: (message: string) => Error): void {
  const seen = new Set<string>()
  for (const sig of signatures) {
    const id = `${sig.name} ${sig.keyId}`
    if (seen.has(id)) throw fail(`duplicate signature by ${sig.name}+${formatKeyId(sig.keyId)}`)
    seen.add(id)
  }
}

/**
 * Strict C2SP signed-note parser. Input over MAX_NOTE_SIZE bytes is TOO_LARGE; invalid UTF-8, control
 * characters other than "\n", a missing blank line (the LAST "\n\n" splits text from signatures), a
 * malformed signature line, or a duplicate (name, key ID) are MALFORMED. Does not verify signatures.
 */
export function parseNote (input: Uint8Array | string): Note {
  const message = decodeText(input, MAX_NOTE_SIZE, 'note')
  const split = message.lastIndexOf('\n\n')
  if (split < 0) throw malformed('note has no blank line before its signatures')
  return { text: message.slice(0, split + 1), signatures: parseSignatureLines(message.slice(split + 2)) }
}

function assertNoteText (text: unknown): asserts text is string {
  if (typeof text !== 'string') throw new TypeError('note text must be a string')
  if (!text.endsWith('\n')) throw new RangeError('note text must end with "\\n"')
  try {
    checkText(text, MAX_NOTE_SIZE, 'note text')
  } catch (cause) {
    throw new RangeError(`invalid note text: ${(cause as Error).message}`, { cause })
  }
}

/** The note's bytes as text. RangeError for a note `parseNote` would reject. */
export function formatNote (note: Note): string {
  assertNoteText(note.text)
  if (note.signatures.length === 0) throw new RangeError('a note needs at least one signature')
  if (note.signatures.length > MAX_NOTE_SIGNATURES) throw new RangeError(`more than ${MAX_NOTE_SIGNATURES} signatures`)
  assertNoDuplicates(note.signatures, (message) => new RangeError(message))
  const out = `${note.text}\n${note.signatures.map(formatSignatureLine).join('')}`
  if (out.length > MAX_NOTE_SIZE || utf8(out).length > MAX_NOTE_SIZE) throw new RangeError('note is larger than MAX_NOTE_SIZE')
  return out
}

/** Signs `text` (which must end with "\n") with each signer, in order. */
export function signNote (text: string, signers: NoteSigner[]): Note {
  assertNoteText(text)
  if (signers.length === 0) throw new RangeError('signNote needs at least one signer')
  const bytes = utf8(text)
  const signatures = signers.map((s) => ({ name: s.name, keyId: s.keyId, signature: s.sign(bytes) }))
  assertNoDuplicates(signatures, (message) => new RangeError(message))
  return { text, signatures }
}

/**
 * Verifies a parsed note per the C2SP signed-note verifier rules and returns the verified signatures.
 * Signatures by unknown (name, key ID) pairs are ignored. A known key whose signature fails rejects the
 * whole note, and so does a note without any verified signature: both are BAD_SIGNATURE
 * (details.reason 'invalid-signature' or 'no-known-signature'). When several verifiers share a
 * (name, key ID), a signature verifying under any of them counts.
 */
export function verifyNote (note: Note, verifiers: readonly NoteVerifier[]): NoteSignature[] {
  assertNoDuplicates(note.signatures, (message) => malformed(message))
  const byId = new Map<string, NoteVerifier[]>()
  for (const v of verifiers) {
    const id = `${v.name} ${v.keyId}`
    const list = byId.get(id)
    if (list === undefined) byId.set(id, [v])
    else list.push(v)
  }
  const text = utf8(note.text)
  const verified: NoteSignature[] = []
  for (const sig of note.signatures) {
    const candidates = byId.get(`${sig.name} ${sig.keyId}`)
    if (candidates === undefined) continue
    if (!candidates.some((v) => v.verify(text, sig.signature))) {
      throw new ScittError('BAD_SIGNATURE', `invalid signature by known key ${sig.name}+${formatKeyId(sig.keyId)}`, {
        details: { reason: 'invalid-signature', name: sig.name, keyId: sig.keyId },
      })
    }
    verified.push(sig)
  }
  if (verified.length === 0) {
    throw new ScittError('BAD_SIGNATURE', 'note has no signature by a known key', {
      details: { reason: 'no-known-signature', signers: note.signatures.map((s) => `${s.name}+${formatKeyId(s.keyId)}`) },
    })
  }
  return verified
}

/** `parseNote` then `verifyNote`. */
export function openNote (input: Uint8Array | string, verifiers: readonly NoteVerifier[]): { note: Note, verified: NoteSignature[] } {
  const note = parseNote(input)
  return { note, verified: verifyNote(note, verifiers) }
}
