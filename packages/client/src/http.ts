/**
 * The one HTTP helper of the client, over the global `fetch` (Node ≥ 20, browsers): per-attempt
 * timeouts, bounded retries with backoff on 429 / 503 (honouring Retry-After, SCRAPI §2.1), bodies
 * read under a size limit, and 4xx/5xx answers turned into a ScittError that carries the RFC 9290
 * problem details the node sent.
 */
import { MEDIA_TYPE, ScittError, concatBytes, decodeProblemDetails, fromUtf8, type ErrorCode } from '@scitt/core'

export interface HttpOptions {
  /** Time limit of each attempt, in ms (default 10 000). */
  timeoutMs?: number
  /** Retries after a 429 / 503 or a network failure (default 3). */
  retries?: number
  /** Longest wait between attempts that a Retry-After may ask for, in ms (default 10 000). */
  maxRetryDelayMs?: number
  /** Largest response body accepted, in bytes (default 4 MiB). */
  maxBytes?: number
  /** Cancels every attempt and wait. */
  signal?: AbortSignal
  /** The fetch to use (default the global one). */
  fetch?: typeof fetch
}

export interface HttpResponse {
  status: number
  headers: Headers
  body: Uint8Array
  /** The URL asked for (redirects are never followed: 3xx answers are returned as they are). */
  url: string
}

const DEFAULTS = { timeoutMs: 10_000, retries: 3, maxRetryDelayMs: 10_000, maxBytes: 4 * 1024 * 1024 }

/** The code of a ScittError for an HTTP status that is neither success nor redirection. */
export function codeForStatus (status: number): ErrorCode {
  if (status === 404 || status === 410) return 'NOT_FOUND'
  if (status === 409) return 'CONFLICT'
  if (status === 413) return 'TOO_LARGE'
  if (status === 429 || status === 503) return 'PUSHBACK'
  if (status === 403) return 'POLICY'
  if (status === 422) return 'BAD_PROOF'
  if (status >= 400 && status < 500) return 'MALFORMED'
  return 'INTERNAL'
}

/** Retry-After (RFC 9110 §10.2.3) in ms: delay-seconds or an HTTP date; undefined when absent or invalid. */
export function retryAfterMs (headers: Headers, now = Date.now()): number | undefined {
  const value = headers.get('retry-after')?.trim()
  if (value === undefined || value === '') return undefined
  if (/^\d{1,9}$/.test(value)) return Number(value) * 1000
  const date = Date.parse(value)
  return Number.isNaN(date) ? undefined : Math.max(0, date - now)
}

/** Waits `ms`, or rejects when `signal` aborts. */
export async function sleep (ms: number, signal?: AbortSignal): Promise<void> {
  if (ms <= 0) return
  await new Promise<void>((resolve, reject) => {
    const onAbort = (): void => {
      clearTimeout(timer)
      reject(signal!.reason)
    }
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort)
      resolve()
    }, ms)
    if (signal?.aborted === true) onAbort()
    else signal?.addEventListener('abort', onAbort, { once: true })
  })
}

/**
 * The body, at most `maxBytes` as decoded (fetch undoes the Content-Encoding). Content-Length counts the
 * encoded bytes (RFC 9110 §8.6), so it refuses a body early only when there is no content coding.
 */
async function readBody (response: Response, maxBytes: number, url: string): Promise<Uint8Array> {
  const declared = response.headers.get('content-length')
  const coding = response.headers.get('content-encoding')?.trim().toLowerCase() ?? ''
  if (declared !== null && (coding === '' || coding === 'identity') && Number(declared) > maxBytes) {
    await response.body?.cancel()
    throw new ScittError('TOO_LARGE', `${url}: response of ${declared} bytes exceeds the ${maxBytes}-byte limit`)
  }
  if (response.body === null) return new Uint8Array(0)
  const reader = (response.body as ReadableStream<Uint8Array>).getReader()
  const chunks: Uint8Array[] = []
  let length = 0
  for (;;) {
    const { done, value } = await reader.read()
    if (done) break
    length += value.length
    if (length > maxBytes) {
      await reader.cancel()
      throw new ScittError('TOO_LARGE', `${url}: response exceeds the ${maxBytes}-byte limit`)
    }
    chunks.push(value)
  }
  return concatBytes(...chunks)
}

/** The ScittError for an error answer: the problem details' title and detail when the node sent them. */
export function httpError (method: string, response: HttpResponse): ScittError {
  const { status, headers, body, url } = response
  let title: string | undefined
  let detail: string | undefined
  const type = headers.get('content-type') ?? ''
  if (type.startsWith(MEDIA_TYPE.problemDetails)) {
    try {
      ({ title, detail } = decodeProblemDetails(body))
    } catch {
      detail = 'unreadable problem details'
    }
  } else if (type.startsWith('text/') && body.length > 0) {
    try {
      detail = fromUtf8(body.subarray(0, 512)).trim()
    } catch {}
  }
  const what = [title, detail].filter((s) => s !== undefined && s !== '').join(': ')
  return new ScittError(codeForStatus(status), `${method} ${url} answered ${status}${what === '' ? '' : ` (${what})`}`, {
    details: { status, url, ...(title === undefined ? {} : { title }), ...(detail === undefined ? {} : { detail }) },
  })
}

function backoffMs (attempt: number): number {
  return Math.min(5000, 250 * 2 ** attempt) * (0.5 + Math.random() / 2)
}

/**
 * One HTTP exchange with retries: a 429 / 503 answer or a network failure is retried up to `retries`
 * times, after Retry-After (capped at maxRetryDelayMs) or an exponential backoff. Other answers,
 * including 3xx and errors, are returned as they are: callers decide (see `expectStatus`).
 * Network failures after the last retry are ScittError PUSHBACK naming the URL.
 */
export async function httpRequest (url: string, init: RequestInit = {}, options: HttpOptions = {}): Promise<HttpResponse> {
  const { timeoutMs, retries, maxRetryDelayMs, maxBytes } = { ...DEFAULTS, ...options }
  const doFetch = options.fetch ?? fetch
  const method = init.method ?? 'GET'
  for (let attempt = 0; ; attempt++) {
    const timeout = AbortSignal.timeout(timeoutMs)
    const signal = options.signal === undefined ? timeout : AbortSignal.any([timeout, options.signal])
    let response: HttpResponse
    try {
      const answer = await doFetch(url, { ...init, redirect: 'manual', signal })
      // Browsers hide manual redirects (an "opaqueredirect" with status 0): report a 303 without a
      // Location, and callers fall back to the entry's own URL.
      const status = answer.type === 'opaqueredirect' ? 303 : answer.status
      response = { status, headers: answer.headers, body: await readBody(answer, maxBytes, url), url }
    } catch (err) {
      if (err instanceof ScittError || options.signal?.aborted === true) throw err
      if (attempt >= retries) {
        const cause = (err as { cause?: { code?: unknown } }).cause
        const reason = timeout.aborted ? `no answer within ${timeoutMs} ms` : typeof cause?.code === 'string' ? cause.code : (err as Error).message
        throw new ScittError('PUSHBACK', `${method} ${url} failed: ${reason}; is the node running at that address?`, { cause: err, details: { url } })
      }
      await sleep(backoffMs(attempt), options.signal)
      continue
    }
    if ((response.status === 429 || response.status === 503) && attempt < retries) {
      const delay = Math.min(maxRetryDelayMs, retryAfterMs(response.headers) ?? backoffMs(attempt))
      await sleep(delay, options.signal)
      continue
    }
    return response
  }
}

/** The response when its status is one of `ok`, else the ScittError of `httpError`. */
export function expectStatus (method: string, response: HttpResponse, ok: readonly number[]): HttpResponse {
  if (ok.includes(response.status)) return response
  if (response.status >= 400) throw httpError(method, response)
  throw new ScittError('MALFORMED', `${method} ${response.url} answered an unexpected ${response.status}`, { details: { status: response.status, url: response.url } })
}

/** The answer's Location, resolved against the URL asked for; undefined without one. */
export function locationOf (response: { headers: Headers, url: string }): string | undefined {
  const location = response.headers.get('location')
  return location === null ? undefined : new URL(location, response.url).toString()
}

/** `GET url` expecting 200; the body. */
export async function httpGet (url: string, accept: string, options: HttpOptions = {}): Promise<Uint8Array> {
  return expectStatus('GET', await httpRequest(url, { headers: { accept } }, options), [200]).body
}

/** `base` (a node URL, with or without a path prefix) joined with a relative `path`. */
export function joinUrl (base: string, path: string): string {
  const url = new URL(base)
  if (!url.pathname.endsWith('/')) url.pathname += '/'
  return new URL(path.replace(/^\/+/, ''), url).toString()
}
