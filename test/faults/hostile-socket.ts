/**
 * Raw HTTP/1.1 over node:net for the hostile HTTP scenarios, where node:http's client would refuse to
 * send what an attacker sends: arbitrary request targets and headers, a declared length the body never
 * matches, bodies trickled byte by byte or streamed without end. Every helper is bounded in time and
 * bytes, honours backpressure (the client's own memory stays flat) and destroys its socket at the end.
 */
import { connect, type Socket } from 'node:net'

export interface RawAnswer {
  /** 0 when the server closed without answering. */
  status: number
  headers: Record<string, string>
  body: Buffer
  /** The server closed (or reset) the connection. */
  closed: boolean
  /** Milliseconds from the first byte sent to the answer (or the close). */
  ms: number
  /** Body bytes the client managed to send before the answer or the close. */
  sent: number
}

/** Parses one response from the bytes received so far; undefined while it is incomplete. */
function parseAnswer (data: Buffer, closed: boolean): Omit<RawAnswer, 'closed' | 'ms' | 'sent'> | undefined {
  const end = data.indexOf('\r\n\r\n')
  if (end < 0) return undefined
  const lines = data.subarray(0, end).toString('latin1').split('\r\n')
  const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(lines[0] ?? '')?.[1] ?? 0)
  const headers: Record<string, string> = {}
  for (const line of lines.slice(1)) {
    const colon = line.indexOf(':')
    if (colon > 0) headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim()
  }
  const length = headers['content-length'] === undefined ? undefined : Number(headers['content-length'])
  const body = data.subarray(end + 4)
  if (length !== undefined && body.length < length && !closed) return undefined
  if (length === undefined && !closed && status !== 0) return { status, headers, body: Buffer.alloc(0) }
  return { status, headers, body: length === undefined ? body : body.subarray(0, length) }
}

export interface RawRequestOptions {
  /** Written once the connection is up (request line and headers, maybe a body start). */
  head: string | Buffer
  /** Writes the body: called with a `write` that resolves on drain and a `stopped()` check. */
  body?: (write: (chunk: Buffer) => Promise<void>, stopped: () => boolean) => Promise<void>
  /** Give up (and destroy the socket) after this long. */
  timeoutMs: number
  /** After the answer, wait up to this long for the server to close the connection (default 0: do not wait). */
  closeWithinMs?: number
}

/**
 * Sends one raw request; resolves with the answer (and whether the server then closed within
 * `closeWithinMs`), the server's close without an answer (status 0), or the timeout (status 0, not closed).
 */
export function rawRequest (port: number, o: RawRequestOptions): Promise<RawAnswer> {
  return new Promise((resolve) => {
    const started = performance.now()
    let data = Buffer.alloc(0)
    let sent = 0
    let done = false
    let answered: { parsed: Omit<RawAnswer, 'closed' | 'ms' | 'sent'>, ms: number } | undefined
    const socket: Socket = connect(port, '127.0.0.1')
    const settle = (closed: boolean): void => {
      if (done) return
      done = true
      clearTimeout(timer)
      clearTimeout(closeTimer)
      socket.destroy()
      const parsed = answered?.parsed ?? parseAnswer(data, true) ?? { status: 0, headers: {}, body: Buffer.alloc(0) }
      resolve({ ...parsed, closed, ms: answered?.ms ?? performance.now() - started, sent })
    }
    let closeTimer: ReturnType<typeof setTimeout> | undefined
    const timer = setTimeout(() => { settle(false) }, o.timeoutMs)
    socket.on('data', (chunk: Buffer) => {
      data = Buffer.concat([data, chunk])
      if (answered !== undefined) return
      const parsed = parseAnswer(data, false)
      if (parsed === undefined) return
      answered = { parsed, ms: performance.now() - started }
      if ((o.closeWithinMs ?? 0) <= 0) settle(false)
      else closeTimer = setTimeout(() => { settle(false) }, o.closeWithinMs)
    })
    socket.on('close', () => { settle(true) })
    socket.on('error', () => {})
    socket.on('connect', () => {
      socket.write(o.head)
      if (o.body === undefined) return
      const write = async (chunk: Buffer): Promise<void> => {
        if (done || socket.destroyed) return
        sent += chunk.length
        if (!socket.write(chunk)) {
          await new Promise<void>((resolve) => {
            const go = (): void => { socket.off('drain', go); socket.off('close', go); resolve() }
            socket.on('drain', go)
            socket.on('close', go)
          })
        }
      }
      o.body(write, () => done || socket.destroyed).catch(() => {})
    })
  })
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))

/** Samples this process's RSS every `everyMs` until stopped; returns the peak. */
export function sampleRss (everyMs = 25): { stop: () => number } {
  let peak = process.memoryUsage().rss
  const timer = setInterval(() => { peak = Math.max(peak, process.memoryUsage().rss) }, everyMs)
  return { stop: () => { clearInterval(timer); return Math.max(peak, process.memoryUsage().rss) } }
}

export const MiB = 1024 * 1024
