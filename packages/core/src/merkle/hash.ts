/**
 * RFC 9162 §2.1.1 hashing: SHA-256 with domain separation (0x00 for leaves, 0x01 for interior nodes).
 *
 * Every SHA-256 in core goes through one implementation: @noble/hashes by default (portable), or a
 * faster one a Node process installs with `setSha256` (see @scitt/node-crypto's `useNodeCrypto`).
 */
import { sha256 as nobleSha256 } from '@noble/hashes/sha2.js'
import { assertBytes, equalBytes, fromHex, utf8 } from '../bytes.js'

export const HASH_SIZE = 32

/** SHA-256 over the concatenation of `parts`. */
export type Sha256 = (...parts: Uint8Array[]) => Uint8Array

const portableSha256: Sha256 = (...parts) => {
  if (parts.length === 1) return nobleSha256(parts[0]!)
  const h = nobleSha256.create()
  for (const p of parts) h.update(p)
  return h.digest()
}

let impl: Sha256 = portableSha256

/**
 * Process-wide: makes every hash in core use `sha256` (it must compute SHA-256; a known-answer check
 * runs first and a wrong implementation is a TypeError). Results never change, only speed. Returns the
 * implementation it replaces.
 */
export function setSha256 (sha256: Sha256): Sha256 {
  const answer = sha256(utf8('a'), utf8('bc'))
  if (!(answer instanceof Uint8Array) || !equalBytes(answer, fromHex('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad'))) {
    throw new TypeError('setSha256: the implementation does not compute SHA-256')
  }
  const previous = impl
  impl = sha256
  return previous
}

/** Plain SHA-256 of the concatenated parts. */
export function sha256Digest (...parts: Uint8Array[]): Uint8Array {
  return impl(...parts)
}

/** MTH({}) = SHA-256(""). */
export const EMPTY_ROOT: Uint8Array = portableSha256(new Uint8Array(0))

/** Reused input buffer of leafHash (0x00 ‖ entry), grown up to MAX_REUSED_LEAF_INPUT. */
let leafInput = new Uint8Array(1024)
const MAX_REUSED_LEAF_INPUT = 65536 + 1

/** MTH({d}) = SHA-256(0x00 ‖ d). */
export function leafHash (entry: Uint8Array): Uint8Array {
  assertBytes(entry, 'entry')
  const length = entry.length + 1
  if (length > leafInput.length) {
    if (length > MAX_REUSED_LEAF_INPUT) return impl(new Uint8Array(1), entry)
    leafInput = new Uint8Array(Math.min(MAX_REUSED_LEAF_INPUT, Math.max(length, leafInput.length * 2)))
  }
  leafInput[0] = 0
  leafInput.set(entry, 1)
  return impl(leafInput.subarray(0, length))
}

/** Reused input buffer of nodeHash: hashing is synchronous and no implementation keeps its input. */
const NODE_INPUT = new Uint8Array(65)

/** SHA-256(0x01 ‖ left ‖ right). */
export function nodeHash (left: Uint8Array, right: Uint8Array): Uint8Array {
  NODE_INPUT[0] = 1
  NODE_INPUT.set(left, 1)
  NODE_INPUT.set(right, 33)
  return impl(NODE_INPUT)
}

/** Asserts a 32-byte hash (RangeError otherwise). */
export function assertHash (value: unknown, name: string): asserts value is Uint8Array {
  assertBytes(value, name, HASH_SIZE)
}
