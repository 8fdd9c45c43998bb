/** RFC 9162 §2.1.4 Merkle consistency proofs. */
import { equalBytes } from '../bytes.js'
import { assertIndex, bitLength, popcount, shiftRight, trailingZeros, xor } from './bits.js'
import { EMPTY_ROOT, assertHash, nodeHash } from './hash.js'
import type { NodeId } from './node-id.js'
import { badProof, checkProofElements, pathNodes, readPlan, type NodeReader, type SubtreeMemo } from './proof-path.js'

function checkSizes (size1: number, size2: number): void {
  assertIndex(size1, 'size1')
  assertIndex(size2, 'size2')
}

/**
 * The plan of PROOF(size1, D[0:size2]) (RFC 9162 §2.1.4.1): for each element, the perfect nodes whose
 * right fold is that element. Empty for size1 == size2 and for size1 == 0; RangeError for size1 > size2.
 * The proof is the last peak of the old tree (left out when size1 is a power of two: it is the old root)
 * followed by that peak's audit path in the new tree.
 */
export function consistencyProofNodes (size1: number, size2: number): NodeId[][] {
  checkSizes(size1, size2)
  if (size1 > size2) throw new RangeError(`size1 ${size1} exceeds size2 ${size2}`)
  if (size1 === 0 || size1 === size2) return []
  const level = trailingZeros(size1)
  const index = shiftRight(size1, level) - 1
  const path = pathNodes(level, index, size2)
  return index === 0 ? path : [[{ level, index }], ...path]
}

/** PROOF(size1, D[0:size2]) (RFC 9162 §2.1.4.1), reading in one `read` call all nodes of elements `memo` lacks. */
export async function consistencyProof (size1: number, size2: number, read: NodeReader, memo?: SubtreeMemo): Promise<Uint8Array[]> {
  return readPlan(consistencyProofNodes(size1, size2), read, memo)
}

/**
 * The new root that a consistency proof yields from `root1` (RFC 9162 §2.1.4.2, with an exact length
 * check). size1 == size2 needs an empty proof and returns root1. size1 == 0 is BAD_PROOF unless size2 is
 * also 0: the empty tree is consistent with every tree, but no proof determines the new root from it.
 * Every failure is BAD_PROOF.
 */
export function rootFromConsistencyProof (size1: number, size2: number, root1: Uint8Array, proof: readonly Uint8Array[]): Uint8Array {
  checkSizes(size1, size2)
  assertHash(root1, 'root1')
  checkProofElements(proof)
  if (size1 > size2) throw badProof(`size1 ${size1} exceeds size2 ${size2}`)
  if (size1 === 0 && !equalBytes(root1, EMPTY_ROOT)) throw badProof('the root of the empty tree is not SHA-256("")')
  if (size1 === size2) {
    if (proof.length !== 0) throw badProof('a consistency proof between equal sizes must be empty')
    return root1.slice()
  }
  if (size1 === 0) throw badProof('a consistency proof from the empty tree does not determine the new root')

  // Exact length: the old tree's last peak (unless size1 is a power of two), then its audit path.
  const shift = trailingZeros(size1)
  const index = shiftRight(size1 - 1, shift)
  const inner = bitLength(xor(index, shiftRight(size2 - 1, shift)))
  const powerOfTwo = index === 0
  const expected = (powerOfTwo ? 0 : 1) + inner + popcount(shiftRight(index, inner))
  if (proof.length !== expected) throw badProof(`consistency proof has ${proof.length} elements, expected ${expected}`)

  const path = powerOfTwo ? [root1, ...proof] : proof
  let fn = size1 - 1
  let sn = size2 - 1
  while (fn % 2 === 1) {
    fn = (fn - 1) / 2
    sn = Math.floor(sn / 2)
  }
  let fr = path[0]!
  let sr = fr
  for (const c of path.slice(1)) {
    if (sn === 0) throw badProof('consistency proof is too long')
    if (fn % 2 === 1 || fn === sn) {
      fr = nodeHash(c, fr)
      sr = nodeHash(c, sr)
      while (fn % 2 === 0 && fn !== 0) {
        fn /= 2
        sn = Math.floor(sn / 2)
      }
    } else {
      sr = nodeHash(sr, c)
    }
    fn = Math.floor(fn / 2)
    sn = Math.floor(sn / 2)
  }
  if (sn !== 0) throw badProof('consistency proof is too short')
  if (!equalBytes(fr, root1)) throw badProof('consistency proof does not lead to the old root')
  return sr
}

/**
 * BAD_PROOF unless `proof` shows the tree (size2, root2) extends the tree (size1, root1). size1 == 0
 * accepts any root2 with an empty proof (C2SP tlog-witness); otherwise RFC 9162 §2.1.4.2.
 */
export function verifyConsistency (size1: number, size2: number, root1: Uint8Array, root2: Uint8Array, proof: readonly Uint8Array[]): void {
  assertHash(root2, 'root2')
  if (size1 === 0 && size2 !== 0) {
    checkSizes(size1, size2)
    assertHash(root1, 'root1')
    checkProofElements(proof)
    if (!equalBytes(root1, EMPTY_ROOT)) throw badProof('the root of the empty tree is not SHA-256("")')
    if (proof.length !== 0) throw badProof('a consistency proof from the empty tree must be empty')
    return
  }
  if (!equalBytes(rootFromConsistencyProof(size1, size2, root1, proof), root2)) {
    throw badProof('consistency proof does not lead to the new root')
  }
}
