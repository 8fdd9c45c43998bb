/**
 * The one table from error codes to HTTP statuses and SCRAPI problem-details titles
 * (docs/spec-digest.md §2.1, scrapi-09 §2): every 4xx/5xx body is RFC 9290 concise problem details in
 * CBOR. A ScittError may carry a more specific title in `details.title` (e.g. "Bad Signature Algorithm").
 */
import type { ServerResponse } from 'node:http'
import type { Duplex } from 'node:stream'
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

/** What node:http's parser errors mean to the client; any other parser error is a malformed request. */
const PARSER_ERRORS: Readonly<Record<string, { status: number, title: string }>> = {
  HPE_HEADER_OVERFLOW: { status: 431, title: 'Request Header Fields Too Large' },
  HPE_CHUNK_EXTENSIONS_OVERFLOW: { status: 413, title: 'Payload Too Large' },
  ERR_HTTP_REQUEST_TIMEOUT: { status: 408, title: 'Request Timeout' },
}

/**
 * The server's `clientError` handler: a request that node:http's own parser refused (no route ran:
 * bad syntax, headers too large, too slow) still gets problem details, written straight to the
 * socket, which then closes. As node:http's own handler does, nothing is written once a response on
 * that connection has started.
 */
export function refuseUnparsed (err: NodeJS.ErrnoException, socket: Duplex): void {
  const inFlight = (socket as { _httpMessage?: ServerResponse | null })._httpMessage
  if (socket.writable && inFlight?.headersSent !== true && err.code !== 'ECONNRESET') {
    const { status, title } = PARSER_ERRORS[err.code ?? ''] ?? { status: 400, title: ERROR_STATUS.MALFORMED.title }
    const body = encodeProblemDetails({ title, detail: `the HTTP request was refused by the parser (${err.code ?? 'error'})` })
    socket.write(Buffer.concat([
      Buffer.from(`HTTP/1.1 ${status} ${title}\r\ncontent-type: ${MEDIA_TYPE.problemDetails}\r\ncontent-length: ${body.length}\r\nconnection: close\r\n\r\n`),
      body,
    ]))
  }
  socket.destroy()
}
