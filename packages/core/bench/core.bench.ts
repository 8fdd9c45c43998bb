/**
 * Core: hashing, tree building, proofs and signatures, each beside the raw node:crypto primitive
 * measured in the same run.
 */
import { createHash, createPublicKey, generateKeyPairSync, sign, verify } from 'node:crypto'
import {
  CompactRange, consistencyProof, inclusionProof, leafHash, nodeHash, portableSignatures, setSha256, utf8,
  verifyConsistency, verifyInclusion, type NodeId, type SignatureAlgorithm, type SignatureProvider,
} from '@scitt/core'
import { nodeSha256, nodeSignatures } from '@scitt/node-crypto'
import type { Bench } from '../../../scripts/bench-lib.js'

export default async function core (bench: Bench): Promise<void> {
  // Hashing: a 65-byte node hash and a ~500-byte entry, against node:crypto SHA-256 of the same bytes.
  const node = new Uint8Array(65)
  const entry = new Uint8Array(500).fill(7)
  bench.rateSync('node:crypto sha256 (65 B)', () => createHash('sha256').update(node).digest())
  bench.rateSync('nodeHash', () => nodeHash(node.subarray(1, 33), node.subarray(33)), { baseline: 'node:crypto sha256 (65 B)' })
  bench.rateSync('node:crypto sha256 (501 B)', () => createHash('sha256').update(entry).digest())
  bench.rateSync('leafHash (500 B entry)', () => leafHash(entry), { baseline: 'node:crypto sha256 (501 B)' })
  const portable = setSha256(nodeSha256)
  bench.rateSync('nodeHash, node:crypto installed', () => nodeHash(node.subarray(1, 33), node.subarray(33)), { baseline: 'node:crypto sha256 (65 B)' })
  bench.rateSync('leafHash, node:crypto installed', () => leafHash(entry), { baseline: 'node:crypto sha256 (501 B)' })
  setSha256(portable)

  // Roots: appending 1 M leaf hashes to a compact range and taking the root.
  const leaves = 1_000_000
  const leaf = leafHash(entry)
  const start = performance.now()
  const range = CompactRange.empty()
  for (let i = 0; i < leaves; i++) range.append(leaf)
  range.root()
  const seconds = (performance.now() - start) / 1000
  bench.record('root of 1 M leaves (compact range)', seconds * 1000, 'ms', { note: `${Math.round(leaves / seconds).toLocaleString('en-US')} appends/s` })
  bench.record('compact-range appends', leaves / seconds, 'ops/s', { baseline: 'nodeHash', note: 'about one node hash per append' })

  // Proofs over an in-memory tree of 2^16 + 123 leaves (every perfect node precomputed).
  const size = 65_536 + 123
  const levels: Uint8Array[][] = [[]]
  const tree = CompactRange.empty()
  for (let i = 0; i < size; i++) {
    tree.append(leafHash(utf8(String(i))), (level, index, hash) => { (levels[level] ??= [])[index] = hash })
  }
  const root = tree.root()
  const read = (ids: NodeId[]): Uint8Array[] => ids.map((id) => levels[id.level]![id.index]!)
  let i = 0
  const proofs: { index: number, proof: Uint8Array[] }[] = []
  await bench.rate('inclusion proofs generated', async () => {
    const index = (i = (i * 7919 + 13) % size)
    const proof = await inclusionProof(index, size, read)
    if (proofs.length < 1024) proofs.push({ index, proof })
  })
  let j = 0
  bench.rateSync('inclusion proofs verified', () => {
    const p = proofs[j++ % proofs.length]!
    verifyInclusion(p.index, size, levels[0]![p.index]!, p.proof, root)
  }, { baseline: 'nodeHash', note: 'ratio = proofs per node hash; ~17 hashes each' })
  const size1 = 40_000
  const cp = await consistencyProof(size1, size, read)
  const root1 = (() => {
    const r = CompactRange.empty()
    for (let k = 0; k < size1; k++) r.append(levels[0]![k]!)
    return r.root()
  })()
  await bench.rate('consistency proofs generated', () => consistencyProof(size1, size, read))
  bench.rateSync('consistency proofs verified', () => verifyConsistency(size1, size, root1, root, cp))

  // Signature verification: the raw node:crypto primitive with a cached KeyObject, then each provider.
  const message = new Uint8Array(100).fill(1)
  for (const alg of ['Ed25519', 'ES256'] as const satisfies SignatureAlgorithm[]) {
    const raw = rawVerify(alg, message)
    bench.rateSync(`node:crypto ${alg} verify (raw)`, raw, { minMs: 700 })
    for (const provider of [nodeSignatures, portableSignatures] as SignatureProvider[]) {
      const signer = provider.signer(alg, provider.generateSecretKey(alg))
      const sig = signer.sign(message)
      const verifier = provider.verifier(alg, signer.publicKey)
      bench.rateSync(`${alg} verify via ${provider.name}`, () => {
        if (!verifier.verify(message, sig)) throw new Error('verify failed')
      }, { baseline: `node:crypto ${alg} verify (raw)`, minMs: 700 })
    }
  }
}

function rawVerify (alg: 'Ed25519' | 'ES256', message: Uint8Array): () => void {
  const { privateKey, publicKey } = alg === 'Ed25519'
    ? generateKeyPairSync('ed25519')
    : generateKeyPairSync('ec', { namedCurve: 'P-256' })
  const key = createPublicKey(publicKey.export({ format: 'pem', type: 'spki' }))
  const digest = alg === 'Ed25519' ? null : 'sha256'
  const options = alg === 'Ed25519' ? key : { key, dsaEncoding: 'ieee-p1363' as const }
  const sig = sign(digest, message, alg === 'Ed25519' ? privateKey : { key: privateKey, dsaEncoding: 'ieee-p1363' })
  return () => {
    if (!verify(digest, message, options, sig)) throw new Error('verify failed')
  }
}
