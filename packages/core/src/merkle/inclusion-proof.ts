/** RFC 9162 §2.1.3 Merkle inclusion proofs. */
import { equalBytes } from '../bytes.js'
import { assertIndex, bitLength, popcount, shiftRight, xor } from './bits.js'
import { assertHash, nodeHash } from './hash.js'
import type { NodeId } from './node-id.js'
import { badProof, checkProofElements, pathNodes, readPlan, type NodeReader, type SubtreeMemo } from './proof-path.js'

export type { NodeReader, SubtreeMemo } from './proof-path.js'

/**
 * The plan of PATH(index, D[0:size]) (RFC 9162 §2.1.3.1): for each proof element, leaf→root, the
 * perfect nodes whose right fold is that element. RangeError for index >= size.
 */
export function inclusionProofNodes (index: number, size: number): NodeId[][] {
  assertIndex(index, 'index')
  assertIndex(size, 'size')
  if (index >= size) throw new RangeError(`leaf index ${index} is not below tree size ${size}`)
  return pathNodes(0, index, size)
}

/** PATH(index, D[0:size]) (RFC 9162 §2.1.3.1), reading in one `read` call all nodes of elements `memo` lacks. */
export async function inclusionProof (index: number, size: number, read: NodeReader, memo?: SubtreeMemo): Promise<Uint8Array[]> {
  return readPlan(inclusionProofNodes(index, size), read, memo)
}

/** The number of proof elements: inner = bitlen(index XOR (size−1)) siblings below the right edge, then one per set bit above. */
function inclusionProofLength (index: number, size: number): number {
  const inner = bitLength(xor(index, size - 1))
  return inner + popcount(shiftRight(index, inner))
}

/**
 * The root that an inclusion proof yields for `leafHash` at `index` (RFC 9162 §2.1.3.2), after an exact
 * proof-length check. BAD_PROOF for index >= size, a wrong length or an element that is not 32 bytes.
 */
export function rootFromInclusionProof (index: number, size: number, leafHash: Uint8Array, proof: readonly Uint8Array[]): Uint8Array {
  assertIndex(index, 'index')
  assertIndex(size, 'size')
  assertHash(leafHash, 'leafHash')
  checkProofElements(proof)
  if (index >= size) throw badProof(`leaf index ${index} is not below tree size ${size}`)
  const expected = inclusionProofLength(index, size)
  if (proof.length !== expected) throw badProof(`inclusion proof has ${proof.length} elements, expected ${expected}`)

  let fn = index
  let sn = size - 1
  let r = leafHash
  for (const p of proof) {
    if (sn === 0) throw badProof('inclusion proof is too long')
    if (fn % 2 === 1 || fn === sn) {
      r = nodeHash(p, r)
      while (fn % 2 === 0 && fn !== 0) {
        fn /= 2
        sn = Math.floor(sn / 2)
      }
    } else {
      r = nodeHash(r, p)
    }
    fn = Math.floor(fn / 2)
    sn = Math.floor(sn / 2)
  }
  if (sn !== 0) throw badProof('inclusion proof is too short')
  return r
}

/** RFC 9162 §2.1.3.2: BAD_PROOF unless `proof` proves `leafHash` at `index` in the tree of `size` with `root`. */
export function verifyInclusion (index: number, size: number, leafHash: Uint8Array, proof: readonly Uint8Array[], root: Uint8Array): void {
  assertHash(root, 'root')
  if (!equalBytes(rootFromInclusionProof(index, size, leafHash, proof), root)) {
    throw badProof('inclusion proof does not lead to the root')
  }
}
