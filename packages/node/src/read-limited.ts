/**
 * Reads a fetch Response body up to a byte limit: a Content-Length above it is refused before
 * anything is read, and the stream is cancelled as soon as the limit is passed (TOO_LARGE either way).
 */
import { ScittError, concatBytes } from '@scitt/core'

export async function readLimited (res: Response, limit: number, what: string): Promise<Uint8Array> {
  const declared = Number(res.headers.get('content-length') ?? NaN)
  if (declared > limit) {
    await res.body?.cancel()
    throw new ScittError('TOO_LARGE', `${what} of ${declared} bytes exceeds ${limit} bytes`)
  }
  if (res.body === null) return new Uint8Array(0)
  const chunks: Uint8Array[] = []
  let length = 0
  const reader = (res.body as ReadableStream<Uint8Array>).getReader()
  for (;;) {
    const { done, value } = await reader.read()
    if (done) break
    length += value.length
    if (length > limit) {
      await reader.cancel()
      throw new ScittError('TOO_LARGE', `${what} exceeds ${limit} bytes`)
    }
    chunks.push(value)
  }
  return chunks.length === 1 ? chunks[0]! : concatBytes(...chunks)
}
