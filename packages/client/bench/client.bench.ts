/**
 * Client: receipt verifications per second with node:crypto (what `scitt verify` and relying parties
 * do), on one thread and across worker threads (ReceiptPool), beside the raw single-thread node:crypto
 * ES256 / Ed25519 verify rate measured in the same run. The receipts carry a 20-hash inclusion path (a
 * tree of about a million entries).
 */
import { createPublicKey, verify as cryptoVerify } from 'node:crypto'
import {
  addReceipts, assembleReceipt, coseKeyThumbprint, decodeSign1, didKeyFromPublicKey, entryBytes, leafHash, receiptProtectedHeader, rootFromInclusionProof,
  sealCheckpoint, sha256Digest, sigStructure, toBase64Url, utf8, type CoseKey, type SignatureAlgorithm,
} from '@scitt/core'
import { nodeSignatures } from '@scitt/node-crypto'
import { ReceiptPool, TrustedKeys, checkReceipt, secretKeyJwk, signStatement, signerFromJwk, verifyTransparentStatement } from '../src/node.js'
import type { Bench } from '../../../scripts/bench-lib.js'
import { useNodeSha256 } from '@scitt/node-crypto'

function rawVerifier (algorithm: SignatureAlgorithm, publicKey: Uint8Array): (m: Uint8Array, s: Uint8Array) => boolean {
  if (algorithm === 'Ed25519') {
    const key = createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: toBase64Url(publicKey) }, format: 'jwk' })
    return (m, s) => cryptoVerify(null, m, key, s)
  }
  const key = createPublicKey({ key: { kty: 'EC', crv: 'P-256', x: toBase64Url(publicKey.subarray(1, 33)), y: toBase64Url(publicKey.subarray(33)) }, format: 'jwk' })
  return (m, s) => cryptoVerify('sha256', m, { key, dsaEncoding: 'ieee-p1363' }, s)
}

export default async function client (bench: Bench): Promise<void> {
  useNodeSha256() // a Node process: core hashes with node:crypto
  const size = 1_000_003
  const index = 777_777
  const entry = utf8('x'.repeat(400))
  const leaf = leafHash(entry)
  const path = Array.from({ length: 20 }, (_, i) => sha256Digest(utf8(`path ${i}`)))
  const root = rootFromInclusionProof(index, size, leaf, path)

  for (const algorithm of ['ES256', 'Ed25519'] as const) {
    const signer = nodeSignatures.signer(algorithm, nodeSignatures.generateSecretKey(algorithm))
    const key: CoseKey = { algorithm, publicKey: signer.publicKey }
    const kid = coseKeyThumbprint(key)
    const protectedBytes = receiptProtectedHeader({ alg: algorithm, kid, iss: 'bench.example/log' })
    const seal = sealCheckpoint(protectedBytes, root, signer)
    const receipt = assembleReceipt(seal, { treeSize: size, leafIndex: index, inclusionPath: path })
    const trusted = new TrustedKeys([{ ...key, kid }], nodeSignatures)
    const raw = rawVerifier(algorithm, signer.publicKey)
    const message = sigStructure(protectedBytes, root)
    const rawName = `node:crypto ${algorithm} verify (raw)`
    bench.rateSync(rawName, () => raw(message, seal.signature))
    bench.rateSync(`receipt verify ${algorithm} (decode, proof, signature)`, () => {
      if (checkReceipt('r', receipt, leaf, trusted).check.status !== 'ok') throw new Error('receipt did not verify')
    }, { baseline: rawName, ...(algorithm === 'ES256' ? { target: '≥ 10,000/s' } : {}) })
    if (algorithm === 'ES256') {
      // The same receipts in batches across worker threads (what a monitor or auditor checking many does).
      const pool = new ReceiptPool([{ ...key, kid }])
      const batch = Array.from({ length: 4096 }, () => ({ receipt, leafHash: leaf }))
      try {
        await bench.rate(`receipt verify ES256, ReceiptPool × ${pool.size} threads`, async () => {
          if ((await pool.verify(batch)).some((r) => r.check.status !== 'ok')) throw new Error('receipt did not verify')
        }, { baseline: rawName, opsPerCall: batch.length, minMs: 2000, target: '≥ 10,000/s', note: 'batches of 4,096, one thread per core' })
      } finally {
        await pool.close()
      }
    }
  }

  // A whole transparent statement: issuer signature (did:key, Ed25519) and one ES256 receipt.
  const issuer = signerFromJwk(secretKeyJwk('Ed25519', nodeSignatures.generateSecretKey('Ed25519'), nodeSignatures), nodeSignatures)
  const statement = signStatement({
    signer: issuer.signer, kid: issuer.key.kid, iss: didKeyFromPublicKey('Ed25519', issuer.key.publicKey), sub: 'bench', contentType: 'text/plain', payload: entry,
  })
  const statementLeaf = leafHash(entryBytes(decodeSign1(statement)))
  const tsRoot = rootFromInclusionProof(index, size, statementLeaf, path)
  const ts = nodeSignatures.signer('ES256', nodeSignatures.generateSecretKey('ES256'))
  const tsKey: CoseKey = { algorithm: 'ES256', publicKey: ts.publicKey }
  const tsProtected = receiptProtectedHeader({ alg: 'ES256', kid: coseKeyThumbprint(tsKey), iss: 'bench.example/log' })
  const transparent = addReceipts(statement, [assembleReceipt(sealCheckpoint(tsProtected, tsRoot, ts), { treeSize: size, leafIndex: index, inclusionPath: path })])
  const nodeKeys = new TrustedKeys([tsKey], nodeSignatures)
  await bench.rate('transparent statement verify (issuer + receipt)', async () => {
    const report = await verifyTransparentStatement(transparent, { provider: nodeSignatures, nodeKeys, allowDidKey: true })
    if (!report.ok) throw new Error('transparent statement did not verify')
  }, { baseline: 'node:crypto ES256 verify (raw)', note: 'two signatures: Ed25519 issuer + ES256 receipt' })
}
