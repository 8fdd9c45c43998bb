/** hex(SHA-256(origin)): a log's name in the URLs of the nodes that hold it (`/logs/<hex>/`) and in their databases. */
import { sha256Digest, toHex, utf8 } from '@scitt/core'

export function originHash (origin: string): string {
  return toHex(sha256Digest(utf8(origin)))
}
