/**
 * The one answer framing of the federation's request/answer protocols (add-checkpoint, consistency,
 * head, log-data): `ok\n` ‖ body, or `error <CODE>: <reason>\n` with CODE one of the project's error
 * codes and a one-line reason of at most 200 characters. A refusal is the peer's answer, not bad data.
 */
import { ERROR_CODES, ScittError, concatBytes, fromUtf8, malformed, utf8, type ErrorCode } from '@scitt/core'

export type Answer = { ok: Uint8Array } | { refused: { code: ErrorCode, reason: string } }

const OK = utf8('ok\n')
const REFUSAL = /^error ([A-Z_]{1,32}): ([^\n]{0,200})$/

export function encodeAnswer (answer: Answer): Uint8Array {
  if ('ok' in answer) return concatBytes(OK, answer.ok)
  return utf8(`error ${answer.refused.code}: ${answer.refused.reason.replace(/\n/g, ' ').slice(0, 200)}\n`)
}

/** The refusal an error becomes: its code for a ScittError, INTERNAL (with no detail) for anything else. */
export function refusalFor (err: unknown): Answer {
  if (err instanceof ScittError) return { refused: { code: err.code, reason: err.message } }
  return { refused: { code: 'INTERNAL', reason: 'internal error' } }
}

/** Strict: MALFORMED for anything but the two forms above. */
export function decodeAnswer (bytes: Uint8Array): Answer {
  if (bytes.length >= 3 && bytes[0] === 0x6f && bytes[1] === 0x6b && bytes[2] === 0x0a) return { ok: bytes.subarray(3) }
  const nl = bytes.indexOf(0x0a)
  const m = nl < 0 || nl !== bytes.length - 1 || nl > 300 ? null : REFUSAL.exec(fromUtf8(bytes.subarray(0, nl)))
  if (m === null || !(ERROR_CODES as readonly string[]).includes(m[1]!)) throw malformed('bad answer: neither "ok" nor "error <CODE>: <reason>"')
  return { refused: { code: m[1] as ErrorCode, reason: m[2]! } }
}

/**
 * The body of an `ok` answer. A refusal throws NOT_FOUND (the peer does not have or give it; never
 * taken for bad data), with the peer's code in the message and in details.code.
 */
export function answerBody (bytes: Uint8Array, what: string): Uint8Array {
  const answer = decodeAnswer(bytes)
  if ('ok' in answer) return answer.ok
  const { code, reason } = answer.refused
  throw new ScittError('NOT_FOUND', `${what}: peer refused: ${code}: ${reason}`, { details: { refused: true, code } })
}
