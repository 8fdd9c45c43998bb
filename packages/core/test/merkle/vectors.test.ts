import assert from 'node:assert/strict'
import {
  CompactRange, consistencyProof, consistencyProofNodes, fromHex, inclusionProof, inclusionProofNodes, leafHash,
  rootFromConsistencyProof, rootFromInclusionProof, toHex, verifyConsistency, verifyInclusion, type NodeId,
} from '@scitt/core'
import { loadVector } from '../../../../test/fixtures.js'
import { ReferenceTree } from './reference-tree.js'

interface Vectors {
  leaf_inputs: string[]
  leaf_hashes: string[]
  roots: Record<string, string>
  inclusion: Array<{ size: number, index: number, leaf_hash: string, root: string, proof: string[] }>
  consistency: Array<{ size1: number, size2: number, root1: string, root2: string, proof: string[] }>
}

const v = loadVector<Vectors>('rfc9162-merkle')

/** Every node the CompactRange creates while appending the 8 vector leaves, keyed "level/index". */
const stored = new Map<string, Uint8Array>()
const range = CompactRange.empty()
const rootsBySize: string[] = [toHex(range.root())]
for (const input of v.leaf_inputs) {
  range.append(leafHash(fromHex(input)), (level, index, hash) => stored.set(`${level}/${index}`, hash))
  rootsBySize.push(toHex(range.root()))
}
const read = (ids: NodeId[]): Uint8Array[] => ids.map((id) => {
  const hash = stored.get(`${id.level}/${id.index}`)
  assert.ok(hash, `node ${id.level}/${id.index} was stored`)
  return hash
})
const hex = (hashes: Uint8Array[]): string[] => hashes.map(toHex)

describe('merkle: RFC 9162 vectors', () => {
  it('has the counts the brief promises', () => {
    assert.equal(v.leaf_inputs.length, 8)
    assert.equal(Object.keys(v.roots).length, 9)
    assert.equal(v.inclusion.length, 36)
    assert.equal(v.consistency.length, 28)
  })

  it('hashes every leaf', () => {
    assert.deepEqual(v.leaf_inputs.map((d) => toHex(leafHash(fromHex(d)))), v.leaf_hashes)
  })

  it('CompactRange and the reference tree give every root 0..8', () => {
    const oracle = new ReferenceTree(v.leaf_hashes.map(fromHex))
    for (let n = 0; n <= 8; n++) {
      assert.equal(rootsBySize[n], v.roots[String(n)], `root(${n})`)
      assert.equal(toHex(oracle.root(n)), v.roots[String(n)], `oracle root(${n})`)
    }
  })

  it('generates and verifies all 36 inclusion proofs byte for byte', async () => {
    for (const t of v.inclusion) {
      const proof = await inclusionProof(t.index, t.size, read)
      assert.deepEqual(hex(proof), t.proof, `inclusion ${t.index}/${t.size}`)
      const leaf = fromHex(t.leaf_hash)
      assert.equal(toHex(rootFromInclusionProof(t.index, t.size, leaf, proof)), t.root)
      verifyInclusion(t.index, t.size, leaf, t.proof.map(fromHex), fromHex(t.root))
    }
  })

  it('generates and verifies all 28 consistency proofs byte for byte', async () => {
    for (const t of v.consistency) {
      const proof = await consistencyProof(t.size1, t.size2, read)
      assert.deepEqual(hex(proof), t.proof, `consistency ${t.size1}→${t.size2}`)
      assert.equal(toHex(rootFromConsistencyProof(t.size1, t.size2, fromHex(t.root1), proof)), t.root2)
      verifyConsistency(t.size1, t.size2, fromHex(t.root1), fromHex(t.root2), t.proof.map(fromHex))
    }
  })

  it('plans the RFC 9162 §2.1.5 seven-leaf example', () => {
    // a..f = d0..d5, j = d6, g h i = pairs, k = [0,4), l = [4,7) = i ‖ j (not perfect).
    const leaf = (index: number): NodeId => ({ level: 0, index })
    const [b, c, d, f, j] = [1, 2, 3, 5, 6].map(leaf)
    const g = { level: 1, index: 0 }
    const h = { level: 1, index: 1 }
    const i = { level: 1, index: 2 }
    const k = { level: 2, index: 0 }
    const l = [i, j!]
    assert.deepEqual(inclusionProofNodes(0, 7), [[b], [h], l])
    assert.deepEqual(inclusionProofNodes(3, 7), [[c], [g], l])
    assert.deepEqual(inclusionProofNodes(4, 7), [[f], [j], [k]])
    assert.deepEqual(inclusionProofNodes(6, 7), [[i], [k]])
    assert.deepEqual(consistencyProofNodes(3, 7), [[c], [d], [g], l])
    assert.deepEqual(consistencyProofNodes(4, 7), [l])
    assert.deepEqual(consistencyProofNodes(6, 7), [[i], [j], [k]])
  })
})
