/** RFC 9162 §2.1.1 hashing: SHA-256 with domain separation (0x00 for leaves, 0x01 for interior nodes). */
import { sha256 } from '@noble/hashes/sha2.js'
import { assertBytes } from '../bytes.js'

export const HASH_SIZE = 32

/** MTH({}) = SHA-256(""). */
export const EMPTY_ROOT: Uint8Array = sha256(new Uint8Array(0))

/** MTH({d}) = SHA-256(0x00 ‖ d). */
export function leafHash (entry: Uint8Array): Uint8Array {
  assertBytes(entry, 'entry')
  return sha256.create().update(LEAF_PREFIX).update(entry).digest()
}

/** SHA-256(0x01 ‖ left ‖ right). */
export function nodeHash (left: Uint8Array, right: Uint8Array): Uint8Array {
  const buf = new Uint8Array(65)
  buf[0] = 1
  buf.set(left, 1)
  buf.set(right, 33)
  return sha256(buf)
}

/** Plain SHA-256. */
export function sha256Digest (data: Uint8Array): Uint8Array {
  return sha256(data)
}

const LEAF_PREFIX = new Uint8Array([0])

/** Asserts a 32-byte hash (RangeError otherwise). */
export function assertHash (value: unknown, name: string): asserts value is Uint8Array {
  assertBytes(value, name, HASH_SIZE)
}
