/** Addressing of perfect subtrees in an RFC 9162 §2.1 Merkle tree. */
import { assertIndex, bitLength, trailingZeros } from './bits.js'

/**
 * The perfect subtree covering leaves [index·2^level, (index+1)·2^level).
 * Level 0 holds the leaf hashes.
 */
export interface NodeId {
  level: number
  index: number
}

/**
 * The maximal perfect subtrees covering the leaf range [begin, end), left to right. For a range
 * that is a subtree of the RFC 9162 tree (e.g. [0, size), or a right-edge subtree [k·2^j, size)),
 * the right fold of their hashes is the range's MTH.
 */
export function perfectSubtrees (begin: number, end: number): NodeId[] {
  assertIndex(begin, 'begin')
  assertIndex(end, 'end')
  if (begin > end) throw new RangeError('begin must not exceed end')
  const out: NodeId[] = []
  let at = begin
  while (at < end) {
    // The largest perfect subtree starting at `at` (aligned there) that ends by `end`.
    const level = Math.min(at === 0 ? 53 : trailingZeros(at), bitLength(end - at) - 1)
    const width = 2 ** level
    out.push({ level, index: at / width })
    at += width
  }
  return out
}
