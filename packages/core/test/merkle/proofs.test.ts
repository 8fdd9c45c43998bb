import assert from 'node:assert/strict'
import fc from 'fast-check'
import {
  CompactRange, EMPTY_ROOT, HASH_SIZE, consistencyProof, consistencyProofNodes, inclusionProof, inclusionProofNodes,
  isScittError, nodeHash, perfectSubtrees, rootFromConsistencyProof, rootFromInclusionProof, verifyConsistency,
  verifyInclusion, type NodeId, type NodeReader, type SubtreeMemo,
} from '@scitt/core'
import { ReferenceTree, testLeaves } from './reference-tree.js'

const N = 2100
const leaves = testLeaves(N)
const oracle = new ReferenceTree(leaves)
const read: NodeReader = (ids) => ids.map((id) => oracle.node(id))
const badProof = (e: unknown): boolean => isScittError(e, 'BAD_PROOF')

const flipBit = (bytes: Uint8Array, bit: number): Uint8Array => {
  const out = bytes.slice()
  out[bit >> 3]! ^= 1 << (bit & 7)
  return out
}
const withElement = (proof: Uint8Array[], at: number, element: Uint8Array): Uint8Array[] =>
  proof.map((p, i) => (i === at ? element : p))

/** Plans must name only perfect nodes inside the tree, each element's pieces contiguous. */
function assertPlanInTree (plan: NodeId[][], size: number): void {
  for (const pieces of plan) {
    assert.ok(pieces.length >= 1)
    for (let i = 0; i < pieces.length; i++) {
      const { level, index } = pieces[i]!
      assert.ok(Number.isSafeInteger(index) && index >= 0 && level >= 0 && level <= 53)
      assert.ok((index + 1) * 2 ** level <= size, `node ${level}/${index} inside ${size}`)
      if (i > 0) {
        const prev = pieces[i - 1]!
        assert.equal((prev.index + 1) * 2 ** prev.level, index * 2 ** level, 'contiguous pieces')
        assert.ok(level < prev.level, 'pieces shrink left to right')
      }
    }
  }
}

/** Inclusion proof checks for one (index, size) against the oracle, plus every tampering. */
async function checkInclusion (index: number, size: number, tamper: boolean): Promise<void> {
  const plan = inclusionProofNodes(index, size)
  assertPlanInTree(plan, size)
  const proof = await inclusionProof(index, size, read)
  assert.deepEqual(proof, oracle.inclusion(index, size), `inclusion ${index}/${size}`)
  const leaf = leaves[index]!
  const root = oracle.root(size)
  assert.deepEqual(rootFromInclusionProof(index, size, leaf, proof), root)
  verifyInclusion(index, size, leaf, proof, root)
  if (!tamper) return
  for (let at = 0; at < proof.length; at++) {
    const bit = (index * 7 + at * 13) % 256
    assert.throws(() => verifyInclusion(index, size, leaf, withElement(proof, at, flipBit(proof[at]!, bit)), root), badProof)
  }
  assert.throws(() => verifyInclusion(index, size, flipBit(leaf, index % 256), proof, root), badProof)
  assert.throws(() => verifyInclusion(index, size, leaf, proof, flipBit(root, size % 256)), badProof)
  if (proof.length > 0) assert.throws(() => verifyInclusion(index, size, leaf, proof.slice(0, -1), root), badProof)
  assert.throws(() => verifyInclusion(index, size, leaf, [...proof, root], root), badProof)
  assert.throws(() => verifyInclusion(index, size, leaf, [root, ...proof], root), badProof)
  for (const other of [index - 1, index + 1, index ^ 1, size, size + 1]) {
    if (other >= 0 && other !== index) assert.throws(() => verifyInclusion(other, size, leaf, proof, root), badProof)
  }
  // Against the true root of another size, the proof must fail.
  for (const other of [size - 1, size + 1, size * 2]) {
    if (other > index && other !== size && other <= N) {
      assert.throws(() => verifyInclusion(index, other, leaf, proof, oracle.root(other)), badProof)
    }
  }
}

/** Consistency proof checks for (size1, size2) against the oracle, plus every tampering. */
async function checkConsistency (size1: number, size2: number, tamper: boolean): Promise<void> {
  const plan = consistencyProofNodes(size1, size2)
  assertPlanInTree(plan, size2)
  const proof = await consistencyProof(size1, size2, read)
  assert.deepEqual(proof, oracle.consistency(size1, size2), `consistency ${size1}→${size2}`)
  const root1 = oracle.root(size1)
  const root2 = oracle.root(size2)
  verifyConsistency(size1, size2, root1, root2, proof)
  if (size1 > 0) assert.deepEqual(rootFromConsistencyProof(size1, size2, root1, proof), root2)
  if (!tamper || size1 === 0 || size1 === size2) return
  for (let at = 0; at < proof.length; at++) {
    const bit = (size1 * 5 + at * 11) % 256
    assert.throws(() => verifyConsistency(size1, size2, root1, root2, withElement(proof, at, flipBit(proof[at]!, bit))), badProof)
  }
  assert.throws(() => verifyConsistency(size1, size2, flipBit(root1, size2 % 256), root2, proof), badProof)
  assert.throws(() => verifyConsistency(size1, size2, root1, flipBit(root2, size1 % 256), proof), badProof)
  assert.throws(() => verifyConsistency(size1, size2, root1, root2, proof.slice(0, -1)), badProof)
  assert.throws(() => verifyConsistency(size1, size2, root1, root2, proof.slice(1)), badProof)
  assert.throws(() => verifyConsistency(size1, size2, root1, root2, [...proof, root2]), badProof)
  assert.throws(() => verifyConsistency(size1, size2, root1, root2, []), badProof)
  // Other sizes, each with its own true roots.
  for (const [m, n] of [[size1 - 1, size2], [size1 + 1, size2], [size1, size2 - 1], [size1, size2 + 1], [size2, size1]] as const) {
    if (m >= 1 && n >= 1 && n <= N && (m !== size1 || n !== size2)) {
      assert.throws(() => verifyConsistency(m, n, oracle.root(m), oracle.root(n), proof), badProof, `${m}→${n}`)
    }
  }
}

describe('merkle: inclusion and consistency proofs against the reference tree', function () {
  this.timeout(10_000) // hashing-heavy; the shared CI machine may be loaded

  it('every inclusion and consistency proof for all sizes up to 40', async () => {
    for (let size = 1; size <= 40; size++) {
      for (let index = 0; index < size; index++) await checkInclusion(index, size, size <= 12)
    }
    for (let size2 = 0; size2 <= 40; size2++) {
      for (let size1 = 0; size1 <= size2; size1++) await checkConsistency(size1, size2, size2 <= 12)
    }
  })

  it('sizes just below, at and above powers of two', async () => {
    for (let k = 1; 2 ** k < N; k++) {
      for (const size of [2 ** k - 1, 2 ** k, 2 ** k + 1]) {
        for (const index of new Set([0, 2 ** (k - 1) - 1, 2 ** (k - 1), size - 1])) {
          if (index >= 0 && index < size) await checkInclusion(index, size, k <= 7)
        }
        for (const size1 of new Set([1, 2 ** (k - 1), 2 ** (k - 1) + 1, 2 ** k - 1, 2 ** k, size])) {
          if (size1 >= 1 && size1 <= size) await checkConsistency(size1, size, k <= 7)
        }
      }
    }
  })

  it('property: random inclusion proofs equal the oracle, verify, and fail when tampered', async () => {
    await fc.assert(fc.asyncProperty(
      fc.integer({ min: 1, max: N }).chain((size) => fc.tuple(fc.constant(size), fc.integer({ min: 0, max: size - 1 }))),
      async ([size, index]) => checkInclusion(index, size, true),
    ), { numRuns: 80 })
  })

  it('property: random consistency proofs equal the oracle, verify, and fail when tampered', async () => {
    await fc.assert(fc.asyncProperty(
      fc.integer({ min: 1, max: N }).chain((size2) => fc.tuple(fc.integer({ min: 1, max: size2 }), fc.constant(size2))),
      async ([size1, size2]) => checkConsistency(size1, size2, true),
    ), { numRuns: 80 })
  })

  it('reads every node of a proof in one call', async () => {
    let calls = 0
    const counting: NodeReader = async (ids) => { calls++; return read(ids) }
    await inclusionProof(5, 7, counting)
    await consistencyProof(3, 7, counting)
    assert.equal(calls, 2)
    assert.deepEqual(await consistencyProof(0, 7, counting), [])
    assert.deepEqual(await consistencyProof(7, 7, counting), [])
    assert.deepEqual(await inclusionProof(0, 1, counting), [])
    assert.equal(calls, 2)
  })

  it('with a subtree memo: the same proofs, the known right-edge folds not read again, never the memo\'s own hashes', async () => {
    const known = new Map<string, Uint8Array>()
    const memo: SubtreeMemo = {
      subtreeHash: (begin, end) => known.get(`${begin}:${end}`),
      rememberSubtree: (begin, end, hash) => { known.set(`${begin}:${end}`, hash) },
    }
    const readIds: NodeId[] = []
    // Copies, so that the proofs' buffers are the caller's to reuse.
    const recording: NodeReader = (ids) => { readIds.push(...ids); return ids.map((id) => oracle.node(id).slice()) }
    const size = 1000 // 0b1111101000: right edges of several pieces
    for (let round = 0; round < 2; round++) {
      for (const index of [0, 1, 511, 512, 767, 800, 900, 991, 999]) {
        readIds.length = 0
        const folds = inclusionProofNodes(index, size).filter((pieces) => pieces.length > 1)
        const knew = folds.map((pieces) => memo.subtreeHash(pieces[0]!.index * 2 ** pieces[0]!.level, size) !== undefined)
        const proof = await inclusionProof(index, size, recording, memo)
        assert.deepEqual(proof, oracle.inclusion(index, size), `inclusion ${index}/${size}, round ${round}`)
        // A fold's pieces are read (and the fold remembered) only when the memo lacks it.
        folds.forEach((pieces, f) => {
          if (round === 1) assert.ok(knew[f])
          for (const id of pieces) assert.equal(readIds.some((r) => r.level === id.level && r.index === id.index), !knew[f])
        })
        for (const p of proof) p.fill(0) // a caller may reuse its proof's buffers
      }
      for (const size1 of [1, 3, 500, 511, 513, 999]) {
        assert.deepEqual(await consistencyProof(size1, size, recording, memo), oracle.consistency(size1, size), `${size1}→${size}, round ${round}`)
      }
    }
    for (const [range, hash] of known) {
      const [begin, end] = range.split(':').map(Number) as [number, number]
      assert.equal(end, size)
      assert.deepEqual(hash, oracle.mth(begin, end), `memo ${range}`)
    }
    assert.ok(known.size >= 4)
  })

  it('treats a reader that returns the wrong hashes as an internal error', async () => {
    const internal = (e: unknown): boolean => isScittError(e, 'INTERNAL')
    await assert.rejects(inclusionProof(5, 7, (ids) => ids.slice(1).map((id) => oracle.node(id))), internal)
    await assert.rejects(inclusionProof(5, 7, (ids) => ids.map(() => new Uint8Array(31))), internal)
  })
})

describe('merkle: proof edge cases', () => {
  const h = leaves[0]!
  const root = (n: number): Uint8Array => oracle.root(n)

  it('inclusion: index >= size and empty trees', async () => {
    assert.throws(() => inclusionProofNodes(0, 0), RangeError)
    assert.throws(() => inclusionProofNodes(5, 5), RangeError)
    await assert.rejects(inclusionProof(3, 2, read), RangeError)
    assert.throws(() => rootFromInclusionProof(0, 0, h, []), badProof)
    assert.throws(() => verifyInclusion(1, 1, h, [], h), badProof)
    assert.throws(() => verifyInclusion(0, 0, h, [], EMPTY_ROOT), badProof)
    // Size 1: the root is the leaf hash and the proof is empty.
    verifyInclusion(0, 1, h, [], h)
    assert.throws(() => verifyInclusion(0, 1, h, [h], h), badProof)
  })

  it('inclusion: elements of the wrong length are BAD_PROOF, wrong argument types are programmer errors', () => {
    const proof = oracle.inclusion(3, 10)
    assert.throws(() => verifyInclusion(3, 10, leaves[3]!, withElement(proof, 1, proof[1]!.subarray(1)), root(10)), badProof)
    assert.throws(() => verifyInclusion(3, 10, leaves[3]!, withElement(proof, 1, new Uint8Array(64)), root(10)), badProof)
    assert.throws(() => verifyInclusion(-1, 10, h, proof, root(10)), RangeError)
    assert.throws(() => verifyInclusion(0.5, 10, h, proof, root(10)), RangeError)
    assert.throws(() => verifyInclusion(0, 2 ** 53, h, proof, root(10)), RangeError)
    assert.throws(() => verifyInclusion(3, 10, new Uint8Array(31), proof, root(10)), RangeError)
    assert.throws(() => verifyInclusion(3, 10, leaves[3]!, proof, new Uint8Array(31)), RangeError)
    assert.throws(() => verifyInclusion(3, 10, leaves[3]!, [...proof.slice(1), 'x' as unknown as Uint8Array], root(10)), TypeError)
  })

  it('consistency: equal sizes, the empty tree, size1 > size2', async () => {
    assert.throws(() => consistencyProofNodes(3, 2), RangeError)
    await assert.rejects(consistencyProof(3, 2, read), RangeError)
    assert.deepEqual(consistencyProofNodes(0, 0), [])
    assert.deepEqual(consistencyProofNodes(0, 9), [])
    assert.deepEqual(consistencyProofNodes(9, 9), [])
    // Equal sizes: empty proof and equal roots.
    verifyConsistency(9, 9, root(9), root(9), [])
    assert.deepEqual(rootFromConsistencyProof(9, 9, root(9), []), root(9))
    assert.throws(() => verifyConsistency(9, 9, root(9), root(8), []), badProof)
    assert.throws(() => verifyConsistency(9, 9, root(9), root(9), [root(9)]), badProof)
    // The empty tree is consistent with every tree, through an empty proof only.
    verifyConsistency(0, 0, EMPTY_ROOT, EMPTY_ROOT, [])
    verifyConsistency(0, 9, EMPTY_ROOT, root(9), [])
    verifyConsistency(0, 9, EMPTY_ROOT, h, [])
    assert.throws(() => verifyConsistency(0, 9, EMPTY_ROOT, root(9), [h]), badProof)
    assert.throws(() => verifyConsistency(0, 9, h, root(9), []), badProof)
    assert.throws(() => verifyConsistency(0, 0, h, h, []), badProof)
    assert.throws(() => rootFromConsistencyProof(0, 9, EMPTY_ROOT, []), badProof)
    assert.deepEqual(rootFromConsistencyProof(0, 0, EMPTY_ROOT, []), EMPTY_ROOT)
    // size1 > size2.
    assert.throws(() => verifyConsistency(9, 8, root(9), root(8), []), badProof)
    assert.throws(() => rootFromConsistencyProof(9, 8, root(9), oracle.consistency(8, 9)), badProof)
    assert.throws(() => verifyConsistency(1, 0, h, EMPTY_ROOT, []), badProof)
  })

  it('consistency: a power-of-two old size leaves its root out; sending it anyway is BAD_PROOF', () => {
    const proof = oracle.consistency(4, 9)
    assert.notDeepEqual(proof[0], root(4))
    verifyConsistency(4, 9, root(4), root(9), proof)
    assert.throws(() => verifyConsistency(4, 9, root(4), root(9), [root(4), ...proof]), badProof)
    // A non-power-of-two old size starts with the old tree's last peak.
    assert.deepEqual(oracle.consistency(6, 9)[0], oracle.node({ level: 1, index: 2 }))
  })

  it('consistency: elements of the wrong length are BAD_PROOF', () => {
    const proof = oracle.consistency(5, 13)
    assert.throws(() => verifyConsistency(5, 13, root(5), root(13), withElement(proof, 0, new Uint8Array(0))), badProof)
    assert.throws(() => verifyConsistency(5, 13, root(5), root(13), withElement(proof, 2, new Uint8Array(33))), badProof)
  })
})

describe('merkle: sizes near 2^53', function () {
  this.timeout(10_000) // hashing-heavy; the shared CI machine may be loaded

  /** BigInt RFC 9162 PATH / SUBPROOF over leaf ranges: the range each proof element covers. */
  type Range = [bigint, bigint]
  const split = (n: bigint): bigint => { let k = 1n; while (k * 2n < n) k *= 2n; return k }
  function pathRanges (m: bigint, a: bigint, b: bigint): Range[] {
    if (b - a === 1n) return []
    const k = split(b - a)
    return m < k ? [...pathRanges(m, a, a + k), [a + k, b]] : [...pathRanges(m - k, a + k, b), [a, a + k]]
  }
  function subproofRanges (m: bigint, a: bigint, b: bigint, full: boolean): Range[] {
    if (m === b - a) return full ? [] : [[a, b]]
    const k = split(b - a)
    return m <= k ? [...subproofRanges(m, a, a + k, full), [a + k, b]] : [...subproofRanges(m - k, a + k, b, false), [a, a + k]]
  }
  const coverage = (plan: NodeId[][]): Array<[number, number]> => plan.map((pieces) => {
    const first = pieces[0]!
    const last = pieces[pieces.length - 1]!
    return [first.index * 2 ** first.level, (last.index + 1) * 2 ** last.level]
  })
  const numbers = (ranges: Range[]): Array<[number, number]> => ranges.map(([a, b]) => [Number(a), Number(b)])

  const sizes = [2 ** 52 + 3, 2 ** 53 - 1, 2 ** 53 - 2, 2 ** 40 + 2 ** 33 + 5, 2 ** 32 + 1, 2 ** 31 + 7, 3 * 2 ** 50]

  it('inclusion plans cover exactly the RFC ranges with perfect in-tree nodes', () => {
    const cases: Array<[number, number]> = [[2 ** 40 + 5, 2 ** 52 + 3]]
    for (const size of sizes) {
      for (const index of [0, 1, 2 ** 31, 2 ** 32 - 1, 2 ** 32 + 1, size - 2 ** 33, Math.floor(size / 3), size - 2, size - 1]) {
        if (index >= 0 && index < size) cases.push([index, size])
      }
    }
    for (const [index, size] of cases) {
      const plan = inclusionProofNodes(index, size)
      assertPlanInTree(plan, size)
      assert.deepEqual(coverage(plan), numbers(pathRanges(BigInt(index), 0n, BigInt(size))), `${index}/${size}`)
    }
    const plan = inclusionProofNodes(2 ** 40 + 5, 2 ** 52 + 3)
    // The leaf lies in the left subtree [0, 2^52): 53 siblings, the last one the right edge [2^52, 2^52+3).
    assert.equal(plan.length, 53)
    assert.deepEqual(plan[plan.length - 1], [{ level: 1, index: 2 ** 51 }, { level: 0, index: 2 ** 52 + 2 }])
  })

  it('consistency plans cover exactly the RFC ranges with perfect in-tree nodes', () => {
    for (const size2 of sizes) {
      for (const size1 of [1, 2 ** 31, 2 ** 32, 2 ** 32 + 1, 2 ** 40 + 5, Math.floor(size2 / 2) + 1, size2 - 1]) {
        if (size1 >= 1 && size1 < size2) {
          const plan = consistencyProofNodes(size1, size2)
          assertPlanInTree(plan, size2)
          assert.deepEqual(coverage(plan), numbers(subproofRanges(BigInt(size1), 0n, BigInt(size2), true)), `${size1}→${size2}`)
        }
      }
    }
  })

  /**
   * A tree whose leaves are all equal: each perfect node's hash depends only on its level, so real
   * proofs and roots can be computed for sizes near 2^53.
   */
  const levelHash: Uint8Array[] = [leaves[0]!]
  for (let l = 1; l <= 53; l++) levelHash.push(nodeHash(levelHash[l - 1]!, levelHash[l - 1]!))
  const uniformRead: NodeReader = (ids) => ids.map((id) => levelHash[id.level]!)
  const uniformRoot = (size: number): Uint8Array =>
    CompactRange.fromPeaks(size, perfectSubtrees(0, size).map((id) => levelHash[id.level]!)).root()

  it('generates and verifies proofs in a uniform tree of up to 2^53-1 leaves', async () => {
    for (const size of sizes) {
      const root = uniformRoot(size)
      for (const index of [0, 2 ** 31, size - 2, size - 1]) {
        const proof = await inclusionProof(index, size, uniformRead)
        verifyInclusion(index, size, levelHash[0]!, proof, root)
        assert.throws(() => verifyInclusion(index, size, levelHash[0]!, proof.slice(1), root), badProof)
        assert.throws(() => verifyInclusion(index, size, levelHash[0]!, [...proof, root], root), badProof)
      }
      for (const size1 of [1, 2 ** 32 + 1, 2 ** 40, size - 1].filter((m) => m < size)) {
        const proof = await consistencyProof(size1, size, uniformRead)
        const root1 = uniformRoot(size1)
        verifyConsistency(size1, size, root1, root, proof)
        assert.deepEqual(rootFromConsistencyProof(size1, size, root1, proof), root)
        assert.throws(() => verifyConsistency(size1, size, root1, root, proof.slice(1)), badProof)
        assert.throws(() => verifyConsistency(size1, size, uniformRoot(size1 + 1), root, proof), badProof)
      }
    }
  })

  it('checks the proof length with full 53-bit arithmetic', () => {
    // index XOR (size-1) has bit 52 set: 52 + 1 = 53 inner levels, no border.
    const size = 2 ** 53 - 1
    const proof = Array.from({ length: 53 }, () => new Uint8Array(HASH_SIZE))
    assert.equal(inclusionProofNodes(0, size).length, 53)
    rootFromInclusionProof(0, size, levelHash[0]!, proof)
    assert.throws(() => rootFromInclusionProof(0, size, levelHash[0]!, proof.slice(1)), badProof)
    // The last leaf of 2^53-1 leaves: 52 left peaks, no inner levels.
    assert.equal(inclusionProofNodes(size - 1, size).length, 52)
    rootFromInclusionProof(size - 1, size, levelHash[0]!, proof.slice(1))
    assert.throws(() => rootFromInclusionProof(size - 1, size, levelHash[0]!, proof), badProof)
  })
})
