/**
 * C2SP tlog-checkpoint v1.0.0: the note text `<origin>\n<tree size>\n<base64 root hash>\n` followed by
 * optional non-empty extension lines, signed as a C2SP signed note by the log's key (name = origin).
 *
 * The parser does not check that a size-0 checkpoint carries SHA-256("") as its root: that is a
 * verifier's rule (a witness answers 422, see `evaluateAddCheckpoint`).
 */
import { assertBytes, toBase64 } from '../bytes.js'
import { ScittError, malformed } from '../errors.js'
import { HASH_SIZE } from '../merkle/hash.js'
import {
  MAX_NOTE_SIZE, parseNote, signNote, verifyNote, formatKeyId,
  type Note, type NoteSignature, type NoteSigner, type NoteVerifier,
} from './signed-note.js'
import { assertSafeSize, checkText, parseDecimal, parseHashLine } from './text.js'

export interface Checkpoint {
  /** The log's identity, e.g. `example.com/log42`. */
  origin: string
  /** Tree size (a safe integer). */
  size: number
  /** RFC 6962 root hash, 32 bytes. */
  rootHash: Uint8Array
  /** Opaque, non-empty extension lines, without their "\n". */
  extensions: string[]
}

function assertLine (value: unknown, name: string): asserts value is string {
  if (typeof value !== 'string' || value === '') throw new RangeError(`${name} must be a non-empty string`)
  if (value.includes('\n')) throw new RangeError(`${name} must not contain "\\n"`)
}

/** The checkpoint's note text. RangeError for a checkpoint `parseCheckpoint` would reject. */
export function formatCheckpoint (cp: Checkpoint): string {
  assertLine(cp.origin, 'origin')
  assertSafeSize(cp.size, 'size')
  assertBytes(cp.rootHash, 'rootHash', HASH_SIZE)
  for (const e of cp.extensions) assertLine(e, 'extension line')
  const text = `${cp.origin}\n${cp.size}\n${toBase64(cp.rootHash)}\n${cp.extensions.map((e) => `${e}\n`).join('')}`
  try {
    checkText(text, MAX_NOTE_SIZE, 'checkpoint')
  } catch (cause) {
    throw new RangeError(`invalid checkpoint: ${(cause as Error).message}`, { cause })
  }
  return text
}

/**
 * Strict, canonical checkpoint parser over a note's text: every line ends in "\n"; origin non-empty;
 * size a canonical decimal ≤ 2^53-1 (no sign, leading zero or space); root hash strict base64 of exactly
 * 32 bytes; extension lines non-empty. MALFORMED on any deviation, TOO_LARGE over MAX_NOTE_SIZE.
 */
export function parseCheckpoint (text: string): Checkpoint {
  if (typeof text !== 'string') throw new TypeError('checkpoint text must be a string')
  checkText(text, MAX_NOTE_SIZE, 'checkpoint')
  if (!text.endsWith('\n')) throw malformed('checkpoint does not end with "\\n"')
  const lines = text.slice(0, -1).split('\n')
  if (lines.length < 3) throw malformed('checkpoint has fewer than three lines')
  const [origin, size, root, ...extensions] = lines as [string, string, string, ...string[]]
  if (origin === '') throw malformed('checkpoint origin is empty')
  if (extensions.includes('')) throw malformed('checkpoint has an empty extension line')
  return {
    origin,
    size: parseDecimal(size, 'checkpoint tree size'),
    rootHash: parseHashLine(root, 'checkpoint root hash'),
    extensions,
  }
}

/** Signs a checkpoint with the log's key, whose name should equal the origin. */
export function signCheckpoint (cp: Checkpoint, signer: NoteSigner): Note {
  return signNote(formatCheckpoint(cp), [signer])
}

export interface OpenedCheckpoint {
  checkpoint: Checkpoint
  note: Note
  /** Every verified signature: the origin's, and any by `extraVerifiers`. */
  verified: NoteSignature[]
}

/**
 * Parses and verifies a signed checkpoint. `logKeys` are the origin's log key or keys (a policy may list
 * several, e.g. across a key rotation): each must be named after the checkpoint's origin (UNKNOWN_ORIGIN
 * otherwise) and at least one must have signed the note (BAD_SIGNATURE). Signatures by `extraVerifiers`
 * (e.g. witnesses) are verified too; any known signature that fails is BAD_SIGNATURE. Unknown
 * signatures are ignored.
 */
export function openCheckpoint (
  input: Uint8Array | string, logKeys: NoteVerifier | readonly NoteVerifier[], extraVerifiers: readonly NoteVerifier[] = [],
): OpenedCheckpoint {
  const note = parseNote(input)
  const checkpoint = parseCheckpoint(note.text)
  const keys: readonly NoteVerifier[] = Array.isArray(logKeys) ? logKeys : [logKeys as NoteVerifier]
  const stranger = keys.find((k) => k.name !== checkpoint.origin)
  if (keys.length === 0 || stranger !== undefined) {
    throw new ScittError('UNKNOWN_ORIGIN', `checkpoint origin ${JSON.stringify(checkpoint.origin)} is not the log key's name ${JSON.stringify(stranger?.name ?? '(no log key)')}`)
  }
  const verified = verifyNote(note, [...keys, ...extraVerifiers])
  if (!verified.some((s) => keys.some((k) => s.name === k.name && s.keyId === k.keyId))) {
    throw new ScittError('BAD_SIGNATURE', `checkpoint is not signed by the log key ${keys.map((k) => `${k.name}+${formatKeyId(k.keyId)}`).join(' or ')}`, {
      details: { reason: 'no-log-signature' },
    })
  }
  return { checkpoint, note, verified }
}
