/**
 * Test oracle: a naive RFC 9162 §2.1 Merkle tree computed straight from the recursive definitions
 * (MTH, PATH, PROOF/SUBPROOF), with MTH memoised per leaf range so that many queries stay cheap.
 */
import { EMPTY_ROOT, leafHash, nodeHash, u64be, type NodeId } from '@scitt/core'

/** The largest power of two strictly smaller than n (n > 1). */
function split (n: number): number {
  let k = 1
  while (k * 2 < n) k *= 2
  return k
}

export class ReferenceTree {
  readonly leaves: readonly Uint8Array[]
  readonly #memo = new Map<string, Uint8Array>()

  /** `leaves` are the leaf hashes MTH({d_i}). */
  constructor (leaves: readonly Uint8Array[]) {
    this.leaves = leaves
  }

  /** MTH(D[begin:end]). */
  mth (begin: number, end: number): Uint8Array {
    const n = end - begin
    if (n === 0) return EMPTY_ROOT
    if (n === 1) return this.leaves[begin]!
    const key = `${begin}:${end}`
    let hash = this.#memo.get(key)
    if (hash === undefined) {
      const k = split(n)
      hash = nodeHash(this.mth(begin, begin + k), this.mth(begin + k, end))
      this.#memo.set(key, hash)
    }
    return hash
  }

  root (size: number): Uint8Array {
    return this.mth(0, size)
  }

  node (id: NodeId): Uint8Array {
    const width = 2 ** id.level
    return this.mth(id.index * width, (id.index + 1) * width)
  }

  /** PATH(m, D[0:size]). */
  inclusion (m: number, size: number): Uint8Array[] {
    return this.#path(m, 0, size)
  }

  #path (m: number, begin: number, end: number): Uint8Array[] {
    const n = end - begin
    if (n === 1) return []
    const k = split(n)
    if (m < k) return [...this.#path(m, begin, begin + k), this.mth(begin + k, end)]
    return [...this.#path(m - k, begin + k, end), this.mth(begin, begin + k)]
  }

  /** PROOF(m, D[0:size]) for 0 < m < size; empty for m == 0 and m == size. */
  consistency (m: number, size: number): Uint8Array[] {
    if (m === 0 || m === size) return []
    return this.#subproof(m, 0, size, true)
  }

  #subproof (m: number, begin: number, end: number, b: boolean): Uint8Array[] {
    const n = end - begin
    if (m === n) return b ? [] : [this.mth(begin, end)]
    const k = split(n)
    if (m <= k) return [...this.#subproof(m, begin, begin + k, b), this.mth(begin + k, end)]
    return [...this.#subproof(m - k, begin + k, end, false), this.mth(begin, begin + k)]
  }
}

/** Deterministic test leaves: the leaf hash of the 8-byte big-endian index. */
export function testLeaves (count: number): Uint8Array[] {
  return Array.from({ length: count }, (_, i) => leafHash(u64be(i)))
}
