/**
 * Byte formats of the federation's gossip messages and peer protocols (all strictly parsed and
 * size-limited before anything else touches them):
 * - checkpoint message: u32be(note length) ‖ signed note (with cosignatures) ‖ receipt seal (CBOR, optional);
 * - add-checkpoint answer: `ok\n<status> <content type>\n` ‖ body (the C2SP tlog-witness HTTP answer);
 * - consistency request: `<origin>\n<size1>\n<size2>\n`; answer: `ok\n` and one base64 hash per line;
 * - head request: `<origin>`; answer: `ok\n` ‖ checkpoint message, NOT_FOUND when the node has none.
 * Answers use the framing of answer.ts (a refusal is `error <CODE>: <reason>\n`).
 */
import { answerBody, decodeAnswer, encodeAnswer, type Answer } from './answer.js'
import {
  ScittError, concatBytes, decodeSeal, encodeSeal, fromBase64, fromUtf8, isValidKeyName, malformed, toBase64, utf8,
  MAX_NOTE_SIZE, HASH_SIZE, type ReceiptSeal,
} from '@scitt/core'

export const MAX_CHECKPOINT_MESSAGE = MAX_NOTE_SIZE + 16 * 1024
const MAX_SEAL = 8 * 1024
const MAX_PROOF = 63

export interface CheckpointMessage {
  note: string
  seal: ReceiptSeal | undefined
}

export function encodeCheckpointMessage (m: CheckpointMessage): Uint8Array {
  const note = utf8(m.note)
  const length = new Uint8Array(4)
  new DataView(length.buffer).setUint32(0, note.length)
  return concatBytes(length, note, m.seal === undefined ? new Uint8Array(0) : encodeSeal(m.seal))
}

export function decodeCheckpointMessage (bytes: Uint8Array): CheckpointMessage {
  if (bytes.length > MAX_CHECKPOINT_MESSAGE) throw new ScittError('TOO_LARGE', 'checkpoint message too large')
  if (bytes.length < 4) throw malformed('checkpoint message too short')
  const length = new DataView(bytes.buffer, bytes.byteOffset, 4).getUint32(0)
  if (length > bytes.length - 4) throw malformed('checkpoint message note length exceeds the message')
  const rest = bytes.subarray(4 + length)
  if (rest.length > MAX_SEAL) throw new ScittError('TOO_LARGE', 'receipt seal too large')
  return { note: fromUtf8(bytes.subarray(4, 4 + length)), seal: rest.length === 0 ? undefined : decodeSeal(rest) }
}

/** The largest answer of the add-checkpoint, consistency and head protocols. */
export const MAX_WITNESS_ANSWER = 64 * 1024
export const MAX_CONSISTENCY_ANSWER = 8 * 1024
/** Requests of the consistency and head protocols. */
export const MAX_SMALL_REQUEST = 1024

export function encodeWitnessAnswer (status: number, contentType: string, body: string): Uint8Array {
  return encodeAnswer({ ok: utf8(`${status} ${contentType}\n${body}`) })
}

export function decodeWitnessAnswer (answer: Uint8Array): { status: number, body: Uint8Array } {
  const bytes = answerBody(answer, 'add-checkpoint')
  const nl = bytes.indexOf(0x0a)
  const head = nl < 0 ? '' : fromUtf8(bytes.subarray(0, nl))
  const m = /^([1-5][0-9]{2}) [\x21-\x7e][\x20-\x7e]{0,99}$/.exec(head)
  if (m === null) throw malformed('add-checkpoint answer has no status line')
  return { status: Number(m[1]), body: bytes.subarray(nl + 1) }
}

export function encodeConsistencyRequest (origin: string, size1: number, size2: number): Uint8Array {
  return utf8(`${origin}\n${size1}\n${size2}\n`)
}

const DECIMAL = /^(0|[1-9][0-9]{0,15})$/

export function decodeConsistencyRequest (bytes: Uint8Array): { origin: string, size1: number, size2: number } {
  if (bytes.length > MAX_SMALL_REQUEST) throw new ScittError('TOO_LARGE', 'consistency request too large')
  const lines = fromUtf8(bytes).split('\n')
  if (lines.length !== 4 || lines[3] !== '' || !isValidKeyName(lines[0]) || !DECIMAL.test(lines[1]!) || !DECIMAL.test(lines[2]!)) throw malformed('bad consistency request')
  const size1 = Number(lines[1])
  const size2 = Number(lines[2])
  if (!Number.isSafeInteger(size1) || !Number.isSafeInteger(size2) || size1 > size2) throw malformed('bad consistency request sizes')
  return { origin: lines[0], size1, size2 }
}

export function encodeConsistencyAnswer (answer: { proof: Uint8Array[] } | Exclude<Answer, { ok: Uint8Array }>): Uint8Array {
  if ('refused' in answer) return encodeAnswer(answer)
  return encodeAnswer({ ok: utf8(answer.proof.map((h) => `${toBase64(h)}\n`).join('')) })
}

/** The proof, or the peer's refusal as `<CODE>: <reason>`. */
export function decodeConsistencyAnswer (bytes: Uint8Array): { proof: Uint8Array[] } | { error: string } {
  if (bytes.length > MAX_CONSISTENCY_ANSWER) throw new ScittError('TOO_LARGE', 'consistency answer too large')
  const answer = decodeAnswer(bytes)
  if ('refused' in answer) return { error: `${answer.refused.code}: ${answer.refused.reason}` }
  const lines = fromUtf8(answer.ok).split('\n')
  if (lines.pop() !== '') throw malformed('bad consistency answer')
  if (lines.length > MAX_PROOF) throw malformed('consistency proof too long')
  return {
    proof: lines.map((l) => {
      const h = fromBase64(l)
      if (h.length !== HASH_SIZE) throw malformed('consistency proof hash is not 32 bytes')
      return h
    }),
  }
}

export function encodeHeadAnswer (message: CheckpointMessage | undefined): Uint8Array {
  return encodeAnswer(message === undefined ? { refused: { code: 'NOT_FOUND', reason: 'no head of that origin here' } } : { ok: encodeCheckpointMessage(message) })
}

/** The head a peer holds for an origin, or undefined when it has none. */
export function decodeHeadAnswer (bytes: Uint8Array): CheckpointMessage | undefined {
  const answer = decodeAnswer(bytes)
  if ('refused' in answer) {
    if (answer.refused.code === 'NOT_FOUND') return undefined
    throw new ScittError('NOT_FOUND', `head: peer refused: ${answer.refused.code}: ${answer.refused.reason}`, { details: { refused: true, code: answer.refused.code } })
  }
  return decodeCheckpointMessage(answer.ok)
}
