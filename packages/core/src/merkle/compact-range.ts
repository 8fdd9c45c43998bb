/** Incremental RFC 9162 §2.1.2 Merkle tree over the leaf range [0, size), kept as its peaks. */
import { assertIndex, popcount } from './bits.js'
import { EMPTY_ROOT, assertHash, nodeHash } from './hash.js'
import { isArray } from '../bytes.js'

/** Called with every node an append creates: the leaf (level 0), then each completed parent, bottom-up. */
export type NodeCallback = (level: number, index: number, hash: Uint8Array) => void

/**
 * The roots of the perfect subtrees covering [0, size), one per set bit of size, largest first.
 * An append costs one node hash per trailing 1-bit of the old size; root() costs popcount(size)−1.
 */
export class CompactRange {
  #size: number
  readonly #peaks: Uint8Array[]

  private constructor (size: number, peaks: Uint8Array[]) {
    this.#size = size
    this.#peaks = peaks
  }

  static empty (): CompactRange {
    return new CompactRange(0, [])
  }

  /** RangeError unless there is one 32-byte peak per set bit of size. */
  static fromPeaks (size: number, peaks: readonly Uint8Array[]): CompactRange {
    assertIndex(size, 'size')
    if (!isArray(peaks)) throw new TypeError('peaks must be an array')
    if (peaks.length !== popcount(size)) {
      throw new RangeError(`a tree of size ${size} has ${popcount(size)} peaks, got ${peaks.length}`)
    }
    peaks.forEach((p, i) => assertHash(p, `peaks[${i}]`))
    return new CompactRange(size, peaks.map((p) => p.slice()))
  }

  get size (): number {
    return this.#size
  }

  /** Copies of the peaks, largest subtree first. */
  get peaks (): Uint8Array[] {
    return this.#peaks.map((p) => p.slice())
  }

  /** Appends one leaf hash (RFC 9162 §2.1.1 MTH({d})) at index `size`. */
  append (leafHash: Uint8Array, onNode?: NodeCallback): void {
    assertHash(leafHash, 'leafHash')
    if (this.#size >= Number.MAX_SAFE_INTEGER) throw new RangeError('tree size would exceed 2^53-1')
    let hash: Uint8Array = leafHash.slice()
    let level = 0
    let index = this.#size
    onNode?.(level, index, hash)
    while (index % 2 === 1) {
      hash = nodeHash(this.#peaks.pop()!, hash)
      level++
      index = (index - 1) / 2
      onNode?.(level, index, hash)
    }
    this.#peaks.push(hash)
    this.#size++
  }

  /** MTH(D[0:size]): EMPTY_ROOT for size 0, else the right fold of the peaks. */
  root (): Uint8Array {
    if (this.#peaks.length <= 1) return (this.#peaks[0] ?? EMPTY_ROOT).slice()
    return foldRight(this.#peaks)!
  }

  clone (): CompactRange {
    return new CompactRange(this.#size, this.#peaks.slice())
  }
}

/** Right fold with nodeHash: h0 ‖ (h1 ‖ (… ‖ hn)); undefined for no hashes. */
export function foldRight (hashes: readonly Uint8Array[]): Uint8Array | undefined {
  let acc = hashes[hashes.length - 1]
  for (let i = hashes.length - 2; i >= 0; i--) acc = nodeHash(hashes[i]!, acc!)
  return acc
}
