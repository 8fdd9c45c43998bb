/**
 * A size-limited request body reader: a Content-Length above the limit is refused before anything is
 * read, and a chunked body stops being read at the limit (TOO_LARGE either way).
 */
import type { IncomingMessage } from 'node:http'
import { ScittError } from '@scitt/core'

export function readBody (req: IncomingMessage, limit: number): Promise<Uint8Array> {
  const declared = req.headers['content-length']
  if (declared !== undefined && Number(declared) > limit) {
    return Promise.reject(new ScittError('TOO_LARGE', `the request body of ${declared} bytes exceeds ${limit} bytes; register a hash envelope (RFC 9995) of larger content`))
  }
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = []
    let length = 0
    const onData = (chunk: Buffer): void => {
      length += chunk.length
      if (length > limit) {
        req.off('data', onData)
        req.resume()
        reject(new ScittError('TOO_LARGE', `the request body exceeds ${limit} bytes; register a hash envelope (RFC 9995) of larger content`))
        return
      }
      chunks.push(chunk)
    }
    req.on('data', onData)
    req.once('end', () => resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, length)))
    req.once('error', reject)
  })
}
