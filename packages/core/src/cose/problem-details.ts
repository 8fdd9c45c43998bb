/**
 * Concise Problem Details (RFC 9290 §2), the error bodies of SCRAPI (docs/spec-digest.md §2.1), served as
 * `MEDIA_TYPE.problemDetails` (application/concise-problem-details+cbor).
 */
import { malformed } from '../errors.js'
import { decodeCbor, encodeCbor, type CborValue } from './cbor.js'
import { expectMap, expectSize, expectText } from './expect.js'

/** Standard keys (RFC 9290 §2.1). */
const KEY = { title: -1, detail: -2, instance: -3, responseCode: -4 } as const

export interface ProblemDetails {
  title?: string
  detail?: string
  instance?: string
  responseCode?: number
}

/** Deterministic `{-1: title, -2: detail, -3: instance, -4: response-code}` with the members given. */
export function encodeProblemDetails (problem: ProblemDetails): Uint8Array {
  const map = new Map<number, CborValue>()
  for (const name of ['title', 'detail', 'instance'] as const) {
    const value = problem[name]
    if (value !== undefined) {
      if (typeof value !== 'string') throw new TypeError(`${name} must be a string`)
      map.set(KEY[name], value)
    }
  }
  if (problem.responseCode !== undefined) {
    if (!Number.isInteger(problem.responseCode) || problem.responseCode < 100 || problem.responseCode > 999) throw new RangeError('responseCode must be an HTTP status')
    map.set(KEY.responseCode, problem.responseCode)
  }
  return encodeCbor(map)
}

/** Strict-ish decoding: a map whose standard members have the right types; other members are ignored. */
export function decodeProblemDetails (bytes: Uint8Array): ProblemDetails {
  const map = expectMap(decodeCbor(bytes, { maxSize: 64 * 1024, maxDepth: 8 }), 'problem details')
  const out: ProblemDetails = {}
  for (const name of ['title', 'detail', 'instance'] as const) {
    const value = map.get(KEY[name])
    if (value !== undefined) out[name] = expectText(value, `problem details ${name} (${KEY[name]})`)
  }
  const code = map.get(KEY.responseCode)
  if (code !== undefined) {
    out.responseCode = expectSize(code, 'problem details response-code (-4)')
    if (out.responseCode < 100 || out.responseCode > 999) throw malformed('problem details: response-code out of range')
  }
  return out
}
