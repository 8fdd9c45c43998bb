/**
 * hex(SHA-256(origin)): a log's name in the URLs of the nodes that hold it (`/logs/<hex>/`, beside its
 * tlog-tiles paths) and in their databases.
 */
import { toHex, utf8 } from '../bytes.js'
import { sha256Digest } from './hash.js'

export function originHash (origin: string): string {
  return toHex(sha256Digest(utf8(origin)))
}
