/**
 * C2SP tlog-witness v1.0.0 bodies and the pure decision of a witness's `add-checkpoint`.
 *
 * Request: `old <size>\n`, 0..63 consistency-proof hash lines (base64), a blank line, the signed checkpoint.
 * 200 response: cosignature lines. 409 response (`text/x.tlog.size`): `<size>\n`.
 */
import { equalBytes, toBase64 } from '../bytes.js'
import { type ErrorCode, isScittError, malformed } from '../errors.js'
import { EMPTY_ROOT, HASH_SIZE } from '../merkle/hash.js'
import { verifyConsistency } from '../merkle/consistency-proof.js'
import { parseCheckpoint, type Checkpoint } from './checkpoint.js'
import {
  MAX_NOTE_SIZE, formatSignatureLine, parseNote, parseSignatureLines, verifyNote,
  type Note, type NoteSignature, type NoteVerifier,
} from './signed-note.js'
import { assertSafeSize, decodeText, nextLine, parseDecimal, readHashLines } from './text.js'

/** Most consistency-proof lines in a request (C2SP tlog-witness). */
export const MAX_CONSISTENCY_PROOF_LINES = 63
/** Largest request body: a maximal note plus the old-size line and 63 hash lines, rounded up. */
export const MAX_ADD_CHECKPOINT_REQUEST_SIZE = MAX_NOTE_SIZE + 4096

export interface AddCheckpointRequest {
  /** The size of the witness's latest cosigned checkpoint as the client believes it (0 if none). */
  oldSize: number
  /** Consistency proof from oldSize to the checkpoint's size (RFC 6962 §2.1.2). */
  proof: Uint8Array[]
  /** The full signed checkpoint note, verbatim. */
  checkpoint: string
}

/** A parsed request; `origin` lets the witness find the log's key and its stored state. */
export interface ParsedAddCheckpointRequest extends AddCheckpointRequest {
  origin: string
}

function assertProof (proof: unknown): asserts proof is Uint8Array[] {
  if (!Array.isArray(proof)) throw new TypeError('proof must be an array')
  if (proof.length > MAX_CONSISTENCY_PROOF_LINES) throw new RangeError(`proof has more than ${MAX_CONSISTENCY_PROOF_LINES} hashes`)
  for (const h of proof) {
    if (!(h instanceof Uint8Array) || h.length !== HASH_SIZE) throw new RangeError('proof hashes must be 32-byte Uint8Arrays')
  }
}

export function formatAddCheckpointRequest (request: AddCheckpointRequest): string {
  assertSafeSize(request.oldSize, 'oldSize')
  assertProof(request.proof)
  if (typeof request.checkpoint !== 'string') throw new TypeError('checkpoint must be a string')
  return `old ${request.oldSize}\n${request.proof.map((h) => `${toBase64(h)}\n`).join('')}\n${request.checkpoint}`
}

/**
 * Strict request parser. MALFORMED: a non-canonical old size, more than 63 proof lines, a proof line
 * that is not base64 of 32 bytes, a missing blank line, or a checkpoint that is not a well-formed signed
 * checkpoint note. TOO_LARGE over MAX_ADD_CHECKPOINT_REQUEST_SIZE. Signatures are not verified here.
 */
export function parseAddCheckpointRequest (input: Uint8Array | string): ParsedAddCheckpointRequest {
  const text = decodeText(input, MAX_ADD_CHECKPOINT_REQUEST_SIZE, 'add-checkpoint request')
  const { line, next } = nextLine(text, 0, 'add-checkpoint request')
  if (!line.startsWith('old ')) throw malformed('add-checkpoint request does not start with "old "')
  const oldSize = parseDecimal(line.slice(4), 'old size')
  const { hashes: proof, next: end } = readHashLines(text, next, MAX_CONSISTENCY_PROOF_LINES, 'consistency proof')
  const checkpoint = text.slice(end)
  const { origin } = parseCheckpoint(parseNote(checkpoint).text)
  return { oldSize, proof, checkpoint, origin }
}

/** The 200 response body: one signature line per cosignature. */
export function formatCosignatureLines (sigs: readonly NoteSignature[]): string {
  if (sigs.length === 0) throw new RangeError('a cosignature response needs at least one line')
  return sigs.map(formatSignatureLine).join('')
}

/** Parses a 200 response body: one or more signature lines (MALFORMED / TOO_LARGE). */
export function parseCosignatureLines (input: Uint8Array | string): NoteSignature[] {
  return parseSignatureLines(decodeText(input, MAX_NOTE_SIZE, 'cosignature response'))
}

/** The 409 body (`text/x.tlog.size`): `<size>\n`. */
export function formatTreeSizeBody (size: number): string {
  assertSafeSize(size, 'size')
  return `${size}\n`
}

/** Strict 409 body parser: a canonical decimal and "\n", nothing else. */
export function parseTreeSizeBody (input: Uint8Array | string): number {
  const text = decodeText(input, 32, 'tree size body')
  if (!text.endsWith('\n')) throw malformed('tree size body does not end with "\\n"')
  return parseDecimal(text.slice(0, -1), 'tree size body')
}

export type AddCheckpointStatus = 400 | 403 | 404 | 409 | 422

export type AddCheckpointOutcome =
  | { status: 200, checkpoint: Checkpoint, note: Note }
  | { status: AddCheckpointStatus, code: ErrorCode, reason: string, knownSize?: number }

export interface AddCheckpointInput {
  request: AddCheckpointRequest
  /** The log keys the witness trusts for the checkpoint's origin (each named after it); none when the origin is unknown. */
  logKeys: readonly NoteVerifier[]
  /** The witness's latest cosigned state for the origin; undefined if it never cosigned one. */
  known: { size: number, rootHash: Uint8Array } | undefined
}

function reject (status: AddCheckpointStatus, code: ErrorCode, reason: string): AddCheckpointOutcome {
  return { status, code, reason }
}

/**
 * The pure core of a witness's `add-checkpoint` (C2SP tlog-witness; HEAD semantics). Checks, in order:
 * 400 a malformed request (it has to be parsed before its origin is known); 404 no key for the origin;
 * 403 no valid signature by one of the log keys, or a failing one; 400 old size > checkpoint size; 409 old size
 * ≠ known size (0 if none), with `knownSize`; 422 a size-0 checkpoint whose root is not SHA-256(""), a
 * non-empty proof with old size 0, a same-size checkpoint with a different root, or a failing
 * consistency proof. 200 means: cosign `note.text`, then store (size, root) atomically with this check.
 */
export function evaluateAddCheckpoint ({ request, logKeys, known }: AddCheckpointInput): AddCheckpointOutcome {
  let note: Note
  let checkpoint: Checkpoint
  try {
    if (!Number.isSafeInteger(request.oldSize) || request.oldSize < 0) throw malformed('old size is not a safe integer')
    if (!Array.isArray(request.proof) || request.proof.length > MAX_CONSISTENCY_PROOF_LINES ||
      !request.proof.every((h) => h instanceof Uint8Array && h.length === HASH_SIZE)) {
      throw malformed('consistency proof is not 0..63 hashes of 32 bytes')
    }
    note = parseNote(request.checkpoint)
    checkpoint = parseCheckpoint(note.text)
  } catch (err) {
    if (isScittError(err)) return reject(400, err.code, err.message)
    throw err
  }
  if (logKeys.length === 0 || logKeys.some((k) => k.name !== checkpoint.origin)) {
    return reject(404, 'UNKNOWN_ORIGIN', `unknown origin ${JSON.stringify(checkpoint.origin)}`)
  }
  try {
    verifyNote(note, logKeys)
  } catch (err) {
    if (isScittError(err)) return reject(403, err.code, err.message)
    throw err
  }
  const { oldSize, proof } = request
  if (oldSize > checkpoint.size) {
    return reject(400, 'MALFORMED', `old size ${oldSize} is greater than the checkpoint size ${checkpoint.size}`)
  }
  const knownSize = known?.size ?? 0
  if (oldSize !== knownSize) {
    return { status: 409, code: 'CONFLICT', reason: `old size ${oldSize} is not the latest cosigned size ${knownSize}`, knownSize }
  }
  if (checkpoint.size === 0 && !equalBytes(checkpoint.rootHash, EMPTY_ROOT)) {
    return reject(422, 'BAD_PROOF', 'a size-0 checkpoint must have the root SHA-256("")')
  }
  if (oldSize === 0 && proof.length !== 0) {
    return reject(422, 'BAD_PROOF', 'a consistency proof from size 0 must be empty')
  }
  if (known !== undefined && oldSize === checkpoint.size && !equalBytes(known.rootHash, checkpoint.rootHash)) {
    return reject(422, 'INCONSISTENT', `same size ${oldSize} as the cosigned checkpoint but a different root`)
  }
  if (known !== undefined && oldSize !== 0) {
    try {
      verifyConsistency(oldSize, checkpoint.size, known.rootHash, checkpoint.rootHash, proof)
    } catch (err) {
      if (isScittError(err)) return reject(422, err.code, err.message)
      throw err
    }
  }
  return { status: 200, checkpoint, note }
}
