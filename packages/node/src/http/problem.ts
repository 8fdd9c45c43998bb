/**
 * The one table from error codes to HTTP statuses and SCRAPI problem-details titles
 * (architecture.md "Errors", scrapi-09 §2): every 4xx/5xx body is RFC 9290 concise problem details in
 * CBOR. A ScittError may carry a more specific title in `details.title` (e.g. "Bad Signature Algorithm").
 */
import type { ServerResponse } from 'node:http'
import { MEDIA_TYPE, encodeProblemDetails, isScittError, type ErrorCode } from '@scitt/core'

export const ERROR_STATUS: Readonly<Record<ErrorCode, { status: number, title: string }>> = {
  MALFORMED: { status: 400, title: 'Malformed request' },
  TOO_LARGE: { status: 413, title: 'Payload Too Large' },
  UNSUPPORTED: { status: 400, title: 'Unsupported' },
  BAD_SIGNATURE: { status: 400, title: 'Bad Signature' },
  UNKNOWN_KEY: { status: 403, title: 'Rejected' },
  UNKNOWN_ORIGIN: { status: 404, title: 'Unknown Origin' },
  BAD_PROOF: { status: 400, title: 'Bad Proof' },
  INCONSISTENT: { status: 409, title: 'Inconsistent' },
  CONFLICT: { status: 409, title: 'Conflict' },
  POLICY: { status: 403, title: 'Rejected' },
  PUSHBACK: { status: 503, title: 'Service Unavailable' },
  NOT_FOUND: { status: 404, title: 'Not Found' },
  INTERNAL: { status: 500, title: 'Internal Server Error' },
}

export interface Problem {
  status: number
  title: string
  detail: string
  /** Seconds, sent as Retry-After. */
  retryAfter?: number
}

/** The problem for any thrown value; errors that are not ScittErrors are 500 without their message. */
export function problemFor (err: unknown, retryAfter: number): Problem {
  if (!isScittError(err)) return { status: 500, title: 'Internal Server Error', detail: 'unexpected error' }
  const entry = ERROR_STATUS[err.code] ?? ERROR_STATUS.INTERNAL
  const title = typeof err.details?.title === 'string' ? err.details.title : entry.title
  const problem: Problem = { status: entry.status, title, detail: entry.status === 500 ? 'internal error' : err.message }
  if (entry.status === 503) problem.retryAfter = retryAfter
  return problem
}

export function sendProblem (res: ServerResponse, problem: Problem, headers: Record<string, string> = {}): void {
  const body = encodeProblemDetails({ title: problem.title, detail: problem.detail })
  res.writeHead(problem.status, {
    ...headers,
    'content-type': MEDIA_TYPE.problemDetails,
    'content-length': body.length,
    ...(problem.retryAfter === undefined ? {} : { 'retry-after': String(problem.retryAfter) }),
  })
  res.end(body)
}
