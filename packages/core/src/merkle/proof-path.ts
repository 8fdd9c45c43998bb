/** Internal pieces shared by inclusion and consistency proofs (RFC 9162 §2.1.3, §2.1.4). */
import { ScittError } from '../errors.js'
import { bitLength, shiftRight, xor } from './bits.js'
import { foldRight } from './compact-range.js'
import { HASH_SIZE } from './hash.js'
import { perfectSubtrees, type NodeId } from './node-id.js'

/**
 * Reads the hashes of perfect nodes (every id lies fully inside the tree), in the order asked.
 * A proof makes exactly one call, so storage can batch its reads.
 */
export type NodeReader = (ids: NodeId[]) => Uint8Array[] | Promise<Uint8Array[]>

/**
 * The audit path of the perfect node (level, index) in the tree of `size` leaves, leaf→root: for each
 * element, the perfect nodes whose right fold is that element. Only the sibling where the path meets
 * the tree's right edge can be non-perfect; it is split into its perfect pieces.
 */
export function pathNodes (level: number, index: number, size: number): NodeId[][] {
  const inner = bitLength(xor(index, shiftRight(size - 1, level)))
  const out: NodeId[][] = []
  for (let j = 0; j < inner; j++) {
    const l = level + j
    const sibling = xor(shiftRight(index, j), 1)
    const begin = sibling * 2 ** l
    out.push(begin + 2 ** l <= size ? [{ level: l, index: sibling }] : perfectSubtrees(begin, size))
  }
  for (let node = shiftRight(index, inner), l = level + inner; node > 0; node = shiftRight(node, 1), l++) {
    if (node % 2 === 1) out.push([{ level: l, index: node - 1 }])
  }
  return out
}

/** Reads every node of a plan in one call and folds each element's pieces into its hash. */
export async function readPlan (plan: NodeId[][], read: NodeReader): Promise<Uint8Array[]> {
  const ids = plan.flat()
  if (ids.length === 0) return []
  const hashes = await read(ids)
  if (!Array.isArray(hashes) || hashes.length !== ids.length) {
    throw new ScittError('INTERNAL', `node reader returned ${String(hashes?.length)} hashes for ${ids.length} ids`)
  }
  for (const h of hashes) {
    if (!(h instanceof Uint8Array) || h.length !== HASH_SIZE) throw new ScittError('INTERNAL', 'node reader returned a hash that is not 32 bytes')
  }
  let at = 0
  return plan.map((pieces) => {
    const element = pieces.length === 1 ? hashes[at]! : foldRight(hashes.slice(at, at + pieces.length))!
    at += pieces.length
    return element
  })
}

export function badProof (message: string): ScittError {
  return new ScittError('BAD_PROOF', message)
}

/** TypeError unless an array of byte strings; BAD_PROOF for an element that is not 32 bytes. */
export function checkProofElements (proof: readonly Uint8Array[]): void {
  if (!Array.isArray(proof)) throw new TypeError('proof must be an array')
  for (const p of proof) {
    if (!(p instanceof Uint8Array)) throw new TypeError('proof elements must be Uint8Arrays')
    if (p.length !== HASH_SIZE) throw badProof(`proof element of ${p.length} bytes, expected ${HASH_SIZE}`)
  }
}
