/** RFC 9162 §2.1.1 leaf hash with node:crypto: the same function as core's `leafHash`, several times faster on the append path. */
import { createHash } from 'node:crypto'

const LEAF_PREFIX = Uint8Array.of(0)

export function leafHashOf (entry: Uint8Array): Uint8Array {
  return new Uint8Array(createHash('sha256').update(LEAF_PREFIX).update(entry).digest())
}
