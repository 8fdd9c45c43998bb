/** Internal pieces shared by inclusion and consistency proofs (RFC 9162 §2.1.3, §2.1.4). */
import { ScittError } from '../errors.js'
import { shiftRight } from './bits.js'
import { foldRight } from './compact-range.js'
import { HASH_SIZE } from './hash.js'
import { perfectSubtrees, type NodeId } from './node-id.js'

/**
 * Reads the hashes of perfect nodes (every id lies fully inside the tree), in the order asked.
 * A proof makes at most one call, so storage can batch its reads.
 */
export type NodeReader = (ids: NodeId[]) => Uint8Array[] | Promise<Uint8Array[]>

/**
 * Hashes MTH(D[begin:end]) of right-edge subtrees of one append-only log, kept between its proofs: a
 * proof element that folds several perfect nodes is looked up here before they are read, and recorded
 * after its fold. The hashes of a log's leaf ranges never change, so a memo serves exactly one log.
 */
export interface SubtreeMemo {
  subtreeHash (begin: number, end: number): Uint8Array | undefined
  rememberSubtree (begin: number, end: number, hash: Uint8Array): void
}

/**
 * The audit path of the perfect node (level, index) in the tree of `size` leaves, leaf→root: for each
 * element, the perfect nodes whose right fold is that element. Walking up from the node, each level
 * where the tree is wider than one node gives the sibling of the node's ancestor, if it has one: a left
 * sibling is always perfect; a right sibling can reach past the tree's right edge, and is then split
 * into its perfect pieces. An ancestor that is the last node of its level has no sibling there.
 */
export function pathNodes (level: number, index: number, size: number): NodeId[][] {
  const out: NodeId[][] = []
  let width = 2 ** level // leaves under a node of the current level
  let node = index
  let last = shiftRight(size - 1, level) // the current level's last node (holds the last leaf)
  for (let l = level; last > 0; l++) {
    if (node % 2 === 1) {
      out.push([{ level: l, index: node - 1 }])
    } else if (node < last) {
      const begin = (node + 1) * width
      out.push(size - begin >= width ? [{ level: l, index: node + 1 }] : perfectSubtrees(begin, size))
    }
    node = Math.floor(node / 2)
    last = Math.floor(last / 2)
    width *= 2
  }
  return out
}

/**
 * Reads every node of a plan in one call and folds each element's pieces into its hash; with a memo,
 * the elements it knows are not read (the returned hashes are never the memo's own).
 */
export async function readPlan (plan: NodeId[][], read: NodeReader, memo?: SubtreeMemo): Promise<Uint8Array[]> {
  const out: Array<Uint8Array | undefined> = []
  const ids: NodeId[] = []
  for (const pieces of plan) {
    const known = memo !== undefined && pieces.length > 1 ? memo.subtreeHash(...leafRange(pieces)) : undefined
    out.push(known?.slice())
    if (known === undefined) ids.push(...pieces)
  }
  const hashes = ids.length === 0 ? [] : await read(ids)
  if (!Array.isArray(hashes) || hashes.length !== ids.length) {
    throw new ScittError('INTERNAL', `node reader returned ${String(hashes?.length)} hashes for ${ids.length} ids`)
  }
  for (const h of hashes) {
    if (!(h instanceof Uint8Array) || h.length !== HASH_SIZE) throw new ScittError('INTERNAL', 'node reader returned a hash that is not 32 bytes')
  }
  let at = 0
  return plan.map((pieces, e) => {
    if (out[e] !== undefined) return out[e]
    const element = pieces.length === 1 ? hashes[at]! : foldRight(hashes.slice(at, at + pieces.length))!
    if (memo !== undefined && pieces.length > 1) memo.rememberSubtree(...leafRange(pieces), element.slice())
    at += pieces.length
    return element
  })
}

/** The leaf range [begin, end) that contiguous pieces cover. */
function leafRange (pieces: readonly NodeId[]): [number, number] {
  const first = pieces[0]!
  const last = pieces[pieces.length - 1]!
  return [first.index * 2 ** first.level, (last.index + 1) * 2 ** last.level]
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
