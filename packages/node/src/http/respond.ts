/** Small response helpers shared by the handlers. */
import type { IncomingMessage, ServerResponse } from 'node:http'

/** Sends a whole response; `headers` (which gets the Content-Length) is the caller's to give away. */
export function send (res: ServerResponse, status: number, body: Uint8Array | string, headers: Record<string, string | number> = {}): void {
  const bytes = typeof body === 'string' ? Buffer.from(body, 'utf8') : body
  headers['content-length'] = bytes.length
  res.writeHead(status, headers)
  res.end(bytes)
}

/** True when the client accepts gzip (RFC 9110 §12.5.3; "gzip;q=0" refuses it). */
export function acceptsGzip (req: IncomingMessage): boolean {
  const header = req.headers['accept-encoding']
  if (typeof header !== 'string') return false
  return header.split(',').some((part) => {
    const [coding, ...params] = part.trim().toLowerCase().split(';').map((s) => s.trim())
    return (coding === 'gzip' || coding === 'x-gzip') && !params.some((p) => /^q=0(\.0*)?$/.test(p))
  })
}
