/**
 * COSE Receipts for RFC9162_SHA256 (RFC 9942, vds 1): issuing and verifying inclusion and consistency
 * receipts.
 *
 * A receipt signs `["Signature1", protected, h'', root]`: the proofs sit in the unprotected header
 * (label 396) and are not signed, so one signature per checkpoint (a `ReceiptSeal`) serves every
 * receipt of that tree size.
 *
 * Edge cases (docs/spec-digest.md §3.2): RFC 9942's CDDL `[+ bstr]` cannot express the empty inclusion path of
 * a 1-leaf tree or the empty consistency path between equal sizes. We emit an empty array in those
 * cases and accept one when verifying.
 */
import { assertBytes, equalBytes } from '../bytes.js'
import { malformed, shown, ScittError } from '../errors.js'
import type { SignatureAlgorithm, Signer, Verifier } from '../crypto/signature.js'
import { assertHash, HASH_SIZE, leafHash as hashLeaf } from '../merkle/hash.js'
import { rootFromConsistencyProof } from '../merkle/consistency-proof.js'
import { rootFromInclusionProof } from '../merkle/inclusion-proof.js'
import { coseAlgorithm, signatureAlgorithmFromCose } from './algorithms.js'
import { decodeCbor, encodeCbor, Tagged, type CborValue } from './cbor.js'
import { expectArray, expectBytes, expectMap, expectSize, expectText } from './expect.js'
import { CWT_CLAIM, HEADER, VDP, VDS_RFC9162_SHA256 } from './labels.js'
import { COSE_SIGN1_TAG, decodeProtectedHeader, decodeSign1, sigStructure, verifySign1, type CoseDecodeLimits, type HeaderMap, type Sign1 } from './sign1.js'

/** Receipts are small: a protected header, a few proofs of at most 64 hashes, a signature. */
const RECEIPT_LIMITS: CoseDecodeLimits = { maxSize: 64 * 1024, maxDepth: 8, maxItems: 4096 }
/** A proof path never exceeds 64 hashes (tree sizes below 2^64). */
const MAX_PATH = 64

export interface ReceiptProtectedHeaderOptions {
  alg: SignatureAlgorithm
  kid: Uint8Array
  iss: string
  sub?: string
}

/** Deterministic protected header of our receipts: `{1: alg, 4: kid, 15: {1: iss, 2?: sub}, 395: 1}`. */
export function receiptProtectedHeader (options: ReceiptProtectedHeaderOptions): Uint8Array {
  assertBytes(options.kid, 'kid')
  if (typeof options.iss !== 'string') throw new TypeError('iss must be a string')
  const claims = new Map<number, CborValue>([[CWT_CLAIM.iss, options.iss]])
  if (options.sub !== undefined) claims.set(CWT_CLAIM.sub, options.sub)
  return encodeCbor(new Map<number, CborValue>([
    [HEADER.alg, coseAlgorithm(options.alg)],
    [HEADER.kid, options.kid],
    [HEADER.cwtClaims, claims],
    [HEADER.vds, VDS_RFC9162_SHA256],
  ]))
}

/** The signed part of every receipt for one checkpoint. */
export interface ReceiptSeal {
  protectedBytes: Uint8Array
  signature: Uint8Array
}

/** Signs a checkpoint root for receipts: the root is the detached payload. */
export function sealCheckpoint (protectedBytes: Uint8Array, rootHash: Uint8Array, signer: Signer): ReceiptSeal {
  assertHash(rootHash, 'rootHash')
  const header = parseReceiptProtected(protectedBytes)
  if (header.algorithm !== signer.algorithm) throw new TypeError(`receipt alg ${header.algorithm} does not match the ${signer.algorithm} signer`)
  return { protectedBytes: protectedBytes.slice(), signature: signer.sign(sigStructure(protectedBytes, rootHash)) }
}

/** Compact storage and gossip form of a seal: deterministic CBOR `[protected, signature]`. */
export function encodeSeal (seal: ReceiptSeal): Uint8Array {
  assertBytes(seal.protectedBytes, 'protectedBytes')
  assertBytes(seal.signature, 'signature')
  return encodeCbor([seal.protectedBytes, seal.signature])
}

/** Strict (deterministic) decoding of `encodeSeal` output; the protected header must be a receipt's. */
export function decodeSeal (bytes: Uint8Array): ReceiptSeal {
  const [protectedValue, signatureValue] = expectArray(decodeCbor(bytes, { ...RECEIPT_LIMITS, deterministic: true }), 'receipt seal', 2)
  const protectedBytes = expectBytes(protectedValue, 'receipt seal protected header')
  const signature = expectBytes(signatureValue, 'receipt seal signature')
  parseReceiptProtected(protectedBytes)
  return { protectedBytes, signature }
}

export interface InclusionProofPath {
  treeSize: number
  leafIndex: number
  inclusionPath: Uint8Array[]
}

export interface ConsistencyProofPath {
  size1: number
  size2: number
  path: Uint8Array[]
}

function checkPath (path: readonly Uint8Array[]): void {
  if (!Array.isArray(path) || path.length > MAX_PATH) throw new TypeError(`path must be an array of at most ${MAX_PATH} hashes`)
  path.forEach((hash, i) => assertHash(hash, `path[${i}]`))
}

function checkSize (value: number, name: string): void {
  if (!Number.isSafeInteger(value) || value < 0) throw new RangeError(`${name} must be a non-negative safe integer`)
}

function assemble (seal: ReceiptSeal, proofLabel: number, proof: CborValue[]): Uint8Array {
  assertBytes(seal.protectedBytes, 'protectedBytes')
  assertBytes(seal.signature, 'signature')
  const unprotected = new Map([[HEADER.vdp, new Map([[proofLabel, [encodeCbor(proof)]]])]])
  return encodeCbor(new Tagged(COSE_SIGN1_TAG, [seal.protectedBytes, unprotected, null, seal.signature]))
}

/** Receipt bytes: tag 18 [protected, {396: {-1: [bstr .cbor [size, index, path]]}}, nil, signature]. */
export function assembleReceipt (seal: ReceiptSeal, proof: InclusionProofPath): Uint8Array {
  checkSize(proof.treeSize, 'treeSize')
  checkSize(proof.leafIndex, 'leafIndex')
  if (proof.leafIndex >= proof.treeSize) throw new RangeError('leafIndex must be below treeSize')
  checkPath(proof.inclusionPath)
  return assemble(seal, VDP.inclusion, [proof.treeSize, proof.leafIndex, proof.inclusionPath])
}

/** Consistency receipt bytes: {396: {-2: [bstr .cbor [size1, size2, path]]}}; the signed root is size2's. */
export function assembleConsistencyReceipt (seal: ReceiptSeal, proof: ConsistencyProofPath): Uint8Array {
  checkSize(proof.size1, 'size1')
  checkSize(proof.size2, 'size2')
  if (proof.size1 > proof.size2) throw new RangeError('size1 must not exceed size2')
  checkPath(proof.path)
  return assemble(seal, VDP.consistency, [proof.size1, proof.size2, proof.path])
}

export interface ReceiptHeader {
  algorithm: SignatureAlgorithm
  kid?: Uint8Array
  iss: string
  sub?: string
}

/** Decodes and reads a receipt protected header (see `readReceiptHeader`). */
function parseReceiptProtected (protectedBytes: Uint8Array): ReceiptHeader {
  assertBytes(protectedBytes, 'protectedBytes')
  return readReceiptHeader(decodeProtectedHeader(protectedBytes, RECEIPT_LIMITS))
}

/**
 * Reads a decoded receipt protected header: alg (supported) and vds 395 required, vds must be 1
 * (UNSUPPORTED otherwise), kid bstr when present, CWT claims (15) with a text iss (sub optional, as
 * RFC 9942's examples omit it).
 */
function readReceiptHeader (p: HeaderMap): ReceiptHeader {
  const alg = p.get(HEADER.alg)
  if (alg === undefined) throw malformed('receipt: alg (1) missing from the protected header')
  const vds = p.get(HEADER.vds)
  if (vds === undefined) throw malformed('receipt: vds (395) missing from the protected header')
  if (vds !== VDS_RFC9162_SHA256) throw new ScittError('UNSUPPORTED', `receipt: unsupported vds ${shown(vds)}`)
  const header: ReceiptHeader = { algorithm: signatureAlgorithmFromCose(alg), iss: '' }
  const kid = p.get(HEADER.kid)
  if (kid !== undefined) header.kid = expectBytes(kid, 'receipt: kid (4)')
  const claims = expectMap(p.get(HEADER.cwtClaims), 'receipt: CWT claims (15)')
  header.iss = expectText(claims.get(CWT_CLAIM.iss), 'receipt: CWT claim iss (15 → 1)')
  const sub = claims.get(CWT_CLAIM.sub)
  if (sub !== undefined) header.sub = expectText(sub, 'receipt: CWT claim sub (15 → 2)')
  return header
}

function decodePath (value: CborValue | undefined, what: string): Uint8Array[] {
  const path = expectArray(value, what)
  if (path.length > MAX_PATH) throw malformed(`${what}: more than ${MAX_PATH} hashes`)
  const item = `${what} hash`
  for (const hash of path) expectBytes(hash, item, HASH_SIZE)
  return path as Uint8Array[]
}

function decodeInclusionProof (value: CborValue): InclusionProofPath {
  const [size, index, path] = expectArray(decodeCbor(expectBytes(value, 'receipt: inclusion proof'), RECEIPT_LIMITS), 'receipt: inclusion proof', 3)
  const treeSize = expectSize(size, 'receipt: tree_size')
  const leafIndex = expectSize(index, 'receipt: leaf_index')
  if (leafIndex >= treeSize) throw malformed('receipt: leaf_index must be below tree_size')
  return { treeSize, leafIndex, inclusionPath: decodePath(path, 'receipt: inclusion_path') }
}

function decodeConsistencyProof (value: CborValue): ConsistencyProofPath {
  const [s1, s2, path] = expectArray(decodeCbor(expectBytes(value, 'receipt: consistency proof'), RECEIPT_LIMITS), 'receipt: consistency proof', 3)
  const size1 = expectSize(s1, 'receipt: tree_size_1')
  const size2 = expectSize(s2, 'receipt: tree_size_2')
  if (size1 > size2) throw malformed('receipt: tree_size_1 must not exceed tree_size_2')
  return { size1, size2, path: decodePath(path, 'receipt: consistency_path') }
}

export interface DecodedReceipt extends ReceiptHeader {
  sign1: Sign1
  inclusionProofs: InclusionProofPath[]
  consistencyProofs: ConsistencyProofPath[]
}

/**
 * Strict decoding of an RFC9162_SHA256 receipt (RFC 9942 §4.3, §5): a tagged COSE_Sign1 whose
 * protected header passes the checks above and whose unprotected vdp (396) holds only registered
 * proof labels (-1, -2; anything else UNSUPPORTED), each a non-empty array of well-formed proofs.
 * Proofs are checked for shape only; `verifyReceipt` checks them against the signature.
 */
export function decodeReceipt (bytes: Uint8Array): DecodedReceipt {
  const sign1 = decodeSign1(bytes, RECEIPT_LIMITS)
  const header = readReceiptHeader(sign1.protectedHeader)
  const vdp = expectMap(sign1.unprotected.get(HEADER.vdp), 'receipt: vdp (396) in the unprotected header')
  const receipt: DecodedReceipt = { ...header, sign1, inclusionProofs: [], consistencyProofs: [] }
  for (const [label, proofs] of vdp) {
    if (label !== VDP.inclusion && label !== VDP.consistency) throw new ScittError('UNSUPPORTED', `receipt: unsupported proof type ${String(label)}`)
    const list = expectArray(proofs, `receipt: proofs (${label})`)
    if (list.length === 0) throw malformed(`receipt: empty proof array (${label})`)
    if (label === VDP.inclusion) receipt.inclusionProofs = list.map(decodeInclusionProof)
    else receipt.consistencyProofs = list.map(decodeConsistencyProof)
  }
  if (receipt.inclusionProofs.length === 0 && receipt.consistencyProofs.length === 0) throw malformed('receipt: vdp (396) holds no proof')
  return receipt
}

/** A verifier, or a lookup by kid that returns undefined for unknown keys (UNKNOWN_KEY). */
export type ReceiptVerifier = Verifier | ((kid: Uint8Array | undefined) => Verifier | undefined)

function resolveVerifier (verifier: ReceiptVerifier, kid: Uint8Array | undefined): Verifier {
  if (typeof verifier !== 'function') return verifier
  const found = verifier(kid)
  if (found === undefined) throw new ScittError('UNKNOWN_KEY', 'receipt: no key for this kid')
  return found
}

/**
 * The signature check shared by both receipt kinds: the root computed from the proofs is the detached
 * payload. An attached payload is never trusted: it must equal that root (BAD_PROOF otherwise).
 */
function verifySealOver (receipt: DecodedReceipt, root: Uint8Array, verifier: ReceiptVerifier): void {
  const { sign1 } = receipt
  if (sign1.payload !== null && !equalBytes(sign1.payload, root)) throw new ScittError('BAD_PROOF', 'receipt: attached payload differs from the computed root')
  verifySign1({ ...sign1, payload: null }, resolveVerifier(verifier, receipt.kid), root)
}

export interface VerifiedReceipt {
  treeSize: number
  leafIndex: number
  rootHash: Uint8Array
  iss: string
  kid: Uint8Array | undefined
}

/**
 * Verifies an inclusion receipt (RFC 9942 §5.2.1, docs/spec-digest.md §3.3) for an entry (or its leaf hash):
 * every inclusion proof must give the same root, which is then the detached payload of the signature.
 * MALFORMED / UNSUPPORTED (decoding), BAD_PROOF, UNKNOWN_KEY, BAD_SIGNATURE.
 */
export function verifyReceipt (receiptBytes: Uint8Array, leaf: { entry?: Uint8Array, leafHash?: Uint8Array }, verifier: ReceiptVerifier): VerifiedReceipt {
  if ((leaf.entry === undefined) === (leaf.leafHash === undefined)) throw new TypeError('give exactly one of entry and leafHash')
  const hash = leaf.entry !== undefined ? hashLeaf(leaf.entry) : leaf.leafHash!
  assertHash(hash, 'leafHash')
  const receipt = decodeReceipt(receiptBytes)
  const [first, ...rest] = receipt.inclusionProofs
  if (first === undefined) throw malformed('receipt: no inclusion proof (-1)')
  const root = rootFromInclusionProof(first.leafIndex, first.treeSize, hash, first.inclusionPath)
  for (const proof of rest) {
    if (!equalBytes(rootFromInclusionProof(proof.leafIndex, proof.treeSize, hash, proof.inclusionPath), root)) {
      throw new ScittError('BAD_PROOF', 'receipt: inclusion proofs disagree on the root')
    }
  }
  verifySealOver(receipt, root, verifier)
  return { treeSize: first.treeSize, leafIndex: first.leafIndex, rootHash: root, iss: receipt.iss, kid: receipt.kid }
}

export interface VerifiedConsistencyReceipt {
  oldSize: number
  treeSize: number
  rootHash: Uint8Array
  iss: string
  kid: Uint8Array | undefined
}

/**
 * Verifies a consistency receipt (docs/spec-digest.md §3.3): from a trusted old root (and, when given, its
 * size) each consistency proof yields the new root (RFC 9162 §2.1.4.2); all must agree, and the new
 * root is the detached payload of the signature.
 */
export function verifyConsistencyReceipt (receiptBytes: Uint8Array, old: { oldSize?: number, oldRoot: Uint8Array }, verifier: ReceiptVerifier): VerifiedConsistencyReceipt {
  assertHash(old.oldRoot, 'oldRoot')
  if (old.oldSize !== undefined) checkSize(old.oldSize, 'oldSize')
  const receipt = decodeReceipt(receiptBytes)
  const first = receipt.consistencyProofs[0]
  if (first === undefined) throw malformed('receipt: no consistency proof (-2)')
  let root: Uint8Array | undefined
  for (const proof of receipt.consistencyProofs) {
    if (old.oldSize !== undefined && proof.size1 !== old.oldSize) throw new ScittError('BAD_PROOF', `receipt: proof starts at size ${proof.size1}, not ${old.oldSize}`)
    if (proof.size2 !== first.size2 || proof.size1 !== first.size1) throw new ScittError('BAD_PROOF', 'receipt: consistency proofs disagree on the sizes')
    const next = rootFromConsistencyProof(proof.size1, proof.size2, old.oldRoot, proof.path)
    if (root !== undefined && !equalBytes(root, next)) throw new ScittError('BAD_PROOF', 'receipt: consistency proofs disagree on the root')
    root = next
  }
  verifySealOver(receipt, root!, verifier)
  return { oldSize: first.size1, treeSize: first.size2, rootHash: root!, iss: receipt.iss, kid: receipt.kid }
}
