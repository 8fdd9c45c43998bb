import assert from 'node:assert/strict'
import {
  assembleConsistencyReceipt, assembleReceipt, decodeCbor, decodeReceipt, decodeSeal, encodeCbor, encodeSeal,
  encodeSign1, decodeSign1, fromHex, isScittError, leafHash, portableSignatures, receiptProtectedHeader,
  sealCheckpoint, sigStructure, Tagged, toHex, utf8, verifyConsistencyReceipt, verifyReceipt,
  type CborValue, type ErrorCode, type Verifier,
} from '@scitt/core'
import { loadVector } from '../../../../test/fixtures.js'

interface ReceiptVector {
  ts_seed_hex: string, ts_pub_hex: string, protected_hex: string, inclusion_proof_hex: string,
  detached_root_hex: string, sig_structure_hex: string, signature_hex: string, receipt_hex: string,
  leaf_index: number, tree_size: number, leaf_input_hex: string
}
interface MerkleVector {
  leaf_inputs: string[], leaf_hashes: string[], roots: Record<string, string>
  inclusion: Array<{ size: number, index: number, leaf_hash: string, root: string, proof: string[] }>
  consistency: Array<{ size1: number, size2: number, root1: string, root2: string, proof: string[] }>
}

const v = loadVector<ReceiptVector>('cose-receipt')
const m = loadVector<MerkleVector>('rfc9162-merkle')
const signer = portableSignatures.signer('Ed25519', fromHex(v.ts_seed_hex))
const verifier = portableSignatures.verifier('Ed25519', fromHex(v.ts_pub_hex))
const header = { alg: 'Ed25519' as const, kid: utf8('ts-key-1'), iss: 'https://ts.example', sub: 'urn:example:subject' }
const entry = fromHex(v.leaf_input_hex)

function fails (fn: () => unknown, code: ErrorCode, what?: string): void {
  assert.throws(fn, (e: unknown) => isScittError(e, code), what)
}

/** The receipt with its unprotected header replaced by `vdp` (same seal). */
function withVdp (vdp: CborValue, bytes = fromHex(v.receipt_hex)): Uint8Array {
  const s = decodeSign1(bytes)
  return encodeSign1({ ...s, unprotected: new Map([[396, vdp]]) })
}

describe('cose/receipt: the docs/spec-digest.md §3.5 vector', () => {
  it('reproduces the protected header, Sig_structure, signature and receipt byte for byte', () => {
    const protectedBytes = receiptProtectedHeader(header)
    assert.equal(toHex(protectedBytes), v.protected_hex)
    assert.equal(toHex(sigStructure(protectedBytes, fromHex(v.detached_root_hex))), v.sig_structure_hex)
    const seal = sealCheckpoint(protectedBytes, fromHex(v.detached_root_hex), signer)
    assert.equal(toHex(seal.signature), v.signature_hex)
    const proof = decodeCbor(fromHex(v.inclusion_proof_hex)) as [number, number, Uint8Array[]]
    const receipt = assembleReceipt(seal, { treeSize: proof[0], leafIndex: proof[1], inclusionPath: proof[2] })
    assert.equal(receipt.length, 246)
    assert.equal(toHex(receipt), v.receipt_hex)
  })

  it('verifies the vector from the entry or the leaf hash, with a key or a kid lookup', () => {
    const expected = { treeSize: 8, leafIndex: 5, rootHash: fromHex(v.detached_root_hex), iss: 'https://ts.example', kid: utf8('ts-key-1') }
    const receipt = fromHex(v.receipt_hex)
    assert.deepEqual(verifyReceipt(receipt, { entry }, verifier), expected)
    assert.deepEqual(verifyReceipt(receipt, { leafHash: leafHash(entry) }, verifier), expected)
    const lookup = (kid: Uint8Array | undefined): Verifier | undefined => kid !== undefined && toHex(kid) === toHex(utf8('ts-key-1')) ? verifier : undefined
    assert.deepEqual(verifyReceipt(receipt, { entry }, lookup), expected)
    fails(() => verifyReceipt(receipt, { entry }, () => undefined), 'UNKNOWN_KEY')
    assert.throws(() => verifyReceipt(receipt, {}, verifier), TypeError)
  })

  it('decodes the vector', () => {
    const r = decodeReceipt(fromHex(v.receipt_hex))
    assert.equal(r.algorithm, 'Ed25519')
    assert.equal(r.iss, 'https://ts.example')
    assert.equal(r.sub, 'urn:example:subject')
    assert.deepEqual(r.inclusionProofs.map((p) => [p.treeSize, p.leafIndex, p.inclusionPath.map(toHex)]),
      [[8, 5, m.inclusion.find((x) => x.size === 8 && x.index === 5)!.proof]])
    assert.deepEqual(r.consistencyProofs, [])
  })

  it('rejects every single-byte change with a coded error', () => {
    const receipt = fromHex(v.receipt_hex)
    for (let i = 0; i < receipt.length; i++) {
      for (const mask of [0x01, 0x80]) {
        const bad = receipt.slice()
        bad[i]! ^= mask
        assert.throws(() => verifyReceipt(bad, { entry }, verifier), (e: unknown) => isScittError(e), `byte ${i} ^ ${mask}`)
      }
    }
    for (let n = 0; n < receipt.length; n += 7) fails(() => verifyReceipt(receipt.subarray(0, n), { entry }, verifier), 'MALFORMED')
  })

  it('fails with the right code for the wrong leaf, key or algorithm', () => {
    const receipt = fromHex(v.receipt_hex)
    fails(() => verifyReceipt(receipt, { entry: fromHex('40414244') }, verifier), 'BAD_SIGNATURE')
    const other = portableSignatures.verifier('Ed25519', portableSignatures.signer('Ed25519', new Uint8Array(32)).publicKey)
    fails(() => verifyReceipt(receipt, { entry }, other), 'BAD_SIGNATURE')
    const es256 = portableSignatures.signer('ES256', new Uint8Array(32).fill(1))
    fails(() => verifyReceipt(receipt, { entry }, portableSignatures.verifier('ES256', es256.publicKey)), 'BAD_SIGNATURE')
  })
})

describe('cose/receipt: issuing and verifying', () => {
  const protectedBytes = receiptProtectedHeader(header)
  const root = (size: number): Uint8Array => fromHex(m.roots[String(size)]!)

  it('verifies receipts for every inclusion proof of the 8-leaf test tree, including the empty 1-leaf path', () => {
    for (const c of m.inclusion) {
      const seal = sealCheckpoint(protectedBytes, fromHex(c.root), signer)
      const receipt = assembleReceipt(seal, { treeSize: c.size, leafIndex: c.index, inclusionPath: c.proof.map(fromHex) })
      const out = verifyReceipt(receipt, { entry: fromHex(m.leaf_inputs[c.index]!) }, verifier)
      assert.equal(out.treeSize, c.size)
      assert.equal(toHex(out.rootHash), c.root)
    }
    const oneLeaf = assembleReceipt(sealCheckpoint(protectedBytes, root(1), signer), { treeSize: 1, leafIndex: 0, inclusionPath: [] })
    const vdp = decodeSign1(oneLeaf).unprotected.get(396) as Map<number, Uint8Array[]>
    assert.equal(toHex(vdp.get(-1)![0]!), '83010080') // [1, 0, []]
    assert.equal(toHex(verifyReceipt(oneLeaf, { entry: new Uint8Array(0) }, verifier).rootHash), m.roots['1'])
  })

  it('requires every proof to give the same root', () => {
    const seal = sealCheckpoint(protectedBytes, root(8), signer)
    const p5 = m.inclusion.find((x) => x.size === 8 && x.index === 5)!
    const good = encodeCbor([8, 5, p5.proof.map(fromHex)])
    assert.equal(verifyReceipt(withVdp(new Map([[-1, [good, good]]]), assembleReceipt(seal, { treeSize: 8, leafIndex: 5, inclusionPath: p5.proof.map(fromHex) })), { entry }, verifier).treeSize, 8)
    const wrong = encodeCbor([8, 5, [...p5.proof.slice(0, 2).map(fromHex), new Uint8Array(32)]])
    fails(() => verifyReceipt(withVdp(new Map([[-1, [good, wrong]]])), { entry }, verifier), 'BAD_PROOF')
    fails(() => verifyReceipt(withVdp(new Map([[-1, [wrong, good]]])), { entry }, verifier), 'BAD_PROOF')
    fails(() => verifyReceipt(withVdp(new Map([[-1, [wrong, wrong]]])), { entry }, verifier), 'BAD_SIGNATURE')
  })

  it('rejects malformed proofs and unsupported structures', () => {
    const p5 = m.inclusion.find((x) => x.size === 8 && x.index === 5)!.proof.map(fromHex)
    const table: Array<[string, CborValue, ErrorCode]> = [
      ['index = size', new Map([[-1, [encodeCbor([8, 8, p5])]]]), 'MALFORMED'],
      ['short hash', new Map([[-1, [encodeCbor([8, 5, [p5[0]!, p5[1]!, p5[2]!.subarray(1)]])]]]), 'MALFORMED'],
      ['path too short', new Map([[-1, [encodeCbor([8, 5, p5.slice(0, 2)])]]]), 'BAD_PROOF'],
      ['path too long', new Map([[-1, [encodeCbor([8, 5, [...p5, p5[0]!]])]]]), 'BAD_PROOF'],
      ['negative size', new Map([[-1, [encodeCbor([-8, 5, p5])]]]), 'MALFORMED'],
      ['huge size', new Map([[-1, [encodeCbor([2n ** 60n, 5n, p5])]]]), 'MALFORMED'],
      ['not wrapped', new Map([[-1, [[8, 5, p5]]]]), 'MALFORMED'],
      ['empty proof list', new Map([[-1, []]]), 'MALFORMED'],
      ['proof list not an array', new Map([[-1, encodeCbor([8, 5, p5])]]), 'MALFORMED'],
      ['unknown proof type', new Map([[-3, [encodeCbor([8, 5, p5])]]]), 'UNSUPPORTED'],
      ['no proof', new Map(), 'MALFORMED'],
      ['only consistency', new Map([[-2, [encodeCbor([4, 8, [p5[2]!]])]]]), 'MALFORMED'],
      ['vdp not a map', [encodeCbor([8, 5, p5])], 'MALFORMED'],
    ]
    for (const [name, vdp, code] of table) fails(() => verifyReceipt(withVdp(vdp), { entry }, verifier), code, name)
    const s = decodeSign1(fromHex(v.receipt_hex))
    fails(() => verifyReceipt(encodeSign1({ ...s, unprotected: new Map() }), { entry }, verifier), 'MALFORMED')
  })

  it('checks the protected header: alg, vds 395 = 1, CWT iss', () => {
    const s = decodeSign1(fromHex(v.receipt_hex))
    const variant = (p: Map<number, CborValue>): Uint8Array => encodeSign1({ ...s, protectedBytes: encodeCbor(p) })
    const base = (): Map<number, CborValue> => new Map<number, CborValue>([[1, -8], [4, utf8('k')], [15, new Map([[1, 'ts']])], [395, 1]])
    const cases: Array<[string, (p: Map<number, CborValue>) => void, ErrorCode]> = [
      ['no alg', (p) => p.delete(1), 'MALFORMED'],
      ['unknown alg', (p) => p.set(1, -9), 'UNSUPPORTED'],
      ['no vds', (p) => p.delete(395), 'MALFORMED'],
      ['vds 2 (CCF)', (p) => p.set(395, 2), 'UNSUPPORTED'],
      ['no CWT claims', (p) => p.delete(15), 'MALFORMED'],
      ['iss not text', (p) => p.set(15, new Map([[1, 5]])), 'MALFORMED'],
      ['text kid', (p) => p.set(4, 'k'), 'MALFORMED'],
    ]
    for (const [name, edit, code] of cases) {
      const p = base()
      edit(p)
      fails(() => decodeReceipt(variant(p)), code, name)
    }
    // The signature check comes last: a well-formed variant fails only there.
    fails(() => verifyReceipt(variant(base()), { entry }, verifier), 'BAD_SIGNATURE')
    // Untagged COSE_Sign1 is refused.
    fails(() => decodeReceipt(fromHex(v.receipt_hex).subarray(1)), 'MALFORMED')
  })

  it('never trusts an attached payload', () => {
    const s = decodeSign1(fromHex(v.receipt_hex))
    const attachedRoot = encodeSign1({ ...s, payload: fromHex(v.detached_root_hex) })
    assert.equal(verifyReceipt(attachedRoot, { entry }, verifier).treeSize, 8)
    fails(() => verifyReceipt(encodeSign1({ ...s, payload: new Uint8Array(32) }), { entry }, verifier), 'BAD_PROOF')
  })

  it('round-trips seals strictly', () => {
    const seal = sealCheckpoint(protectedBytes, root(8), signer)
    const bytes = encodeSeal(seal)
    assert.deepEqual(decodeSeal(bytes), seal)
    fails(() => decodeSeal(bytes.subarray(0, bytes.length - 1)), 'MALFORMED')
    fails(() => decodeSeal(encodeCbor([seal.protectedBytes])), 'MALFORMED')
    fails(() => decodeSeal(encodeCbor([seal.protectedBytes, seal.signature, 1])), 'MALFORMED')
    assert.equal(seal.protectedBytes.length, 60)
    fails(() => decodeSeal(fromHex('82' + '59003c' + toHex(seal.protectedBytes) + toHex(encodeCbor(seal.signature)))), 'MALFORMED') // non-shortest head
    fails(() => decodeSeal(encodeCbor([encodeCbor(new Map([[1, -8]])), seal.signature])), 'MALFORMED')
    assert.throws(() => sealCheckpoint(protectedBytes, root(8), portableSignatures.signer('ES256', new Uint8Array(32).fill(1))), TypeError)
  })

  it('issues and verifies consistency receipts for every pair of the test tree', () => {
    for (const c of m.consistency) {
      const seal = sealCheckpoint(protectedBytes, fromHex(c.root2), signer)
      const receipt = assembleConsistencyReceipt(seal, { size1: c.size1, size2: c.size2, path: c.proof.map(fromHex) })
      const out = verifyConsistencyReceipt(receipt, { oldSize: c.size1, oldRoot: fromHex(c.root1) }, verifier)
      assert.deepEqual([out.oldSize, out.treeSize, toHex(out.rootHash)], [c.size1, c.size2, c.root2])
      assert.equal(verifyConsistencyReceipt(receipt, { oldRoot: fromHex(c.root1) }, verifier).treeSize, c.size2)
    }
    const c = m.consistency.find((x) => x.size1 === 3 && x.size2 === 8)!
    const receipt = assembleConsistencyReceipt(sealCheckpoint(protectedBytes, fromHex(c.root2), signer), { size1: 3, size2: 8, path: c.proof.map(fromHex) })
    fails(() => verifyConsistencyReceipt(receipt, { oldRoot: fromHex(m.roots['4']!) }, verifier), 'BAD_PROOF')
    fails(() => verifyConsistencyReceipt(receipt, { oldSize: 4, oldRoot: fromHex(c.root1) }, verifier), 'BAD_PROOF')
    fails(() => verifyConsistencyReceipt(fromHex(v.receipt_hex), { oldRoot: fromHex(c.root1) }, verifier), 'MALFORMED')
    // Equal sizes: the empty path, accepted.
    const same = assembleConsistencyReceipt(sealCheckpoint(protectedBytes, root(5), signer), { size1: 5, size2: 5, path: [] })
    assert.equal(toHex(verifyConsistencyReceipt(same, { oldSize: 5, oldRoot: root(5) }, verifier).rootHash), m.roots['5'])
    assert.throws(() => assembleConsistencyReceipt(sealCheckpoint(protectedBytes, root(5), signer), { size1: 6, size2: 5, path: [] }), RangeError)
  })

  it('refuses to assemble impossible proofs', () => {
    const seal = sealCheckpoint(protectedBytes, root(8), signer)
    assert.throws(() => assembleReceipt(seal, { treeSize: 8, leafIndex: 8, inclusionPath: [] }), RangeError)
    assert.throws(() => assembleReceipt(seal, { treeSize: 2 ** 53, leafIndex: 0, inclusionPath: [] }), RangeError)
    assert.throws(() => assembleReceipt(seal, { treeSize: 8, leafIndex: 0, inclusionPath: [new Uint8Array(31)] }), RangeError)
  })

  it('refuses tags other than 18', () => {
    fails(() => decodeReceipt(encodeCbor(new Tagged(17, []))), 'MALFORMED')
  })
})
