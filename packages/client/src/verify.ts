/**
 * Offline verification for relying parties (RFC 9943 §7.1, RFC 9942 §5.2.1, C2SP tlog-proof and
 * tlog-policy), portable: no network and no `node:*` (a consistency proof may be supplied by the
 * caller). Every step is a named check with a status, a stable code (verify-code.ts) and a reason that
 * says, in the terms of these options, what failed or what was not given, so a tool can say which one
 * failed and what to supply:
 *
 * - `statement`: the Signed Statement decodes and has the headers RFC 9943 §6 requires;
 * - `issuer-signature`: it verifies under a given issuer key matching its kid, or its did:key iss when
 *   allowed (skipped when no issuer key is given);
 * - `receipt[i]`: the receipt's inclusion proof and signature, under a trusted node key (skipped when
 *   no trusted key has its kid); `receipts`: at least one receipt verified;
 * - `checkpoint[j]`: each given checkpoint is signed by a policy log and meets the witness quorum;
 * - `receipt[i].witnessed` (with a policy): the receipt's (tree size, root) is a cosigned checkpoint's
 *   of the receipt's own log (origin = its iss), or is consistent with a larger one of that log through a
 *   consistency proof;
 * - for a tlog-proof: `proof.checkpoint-signature`, `proof.witness-quorum`, `proof.inclusion`.
 */
import {
  ScittError, checkCosignedCheckpoint, decodeReceipt, decodeSign1, entryBytes, equalBytes, formatKeyId, fromHex, getReceipts, isScittError, leafHash,
  noteVerifierFromVkey, parseCheckpoint, parseNote, parseProofFile, portableSignatures, toBase64, toHex, validateStatement,
  verifyConsistency, verifyProofFile, verifyReceipt, verifySign1,
  type CosignedCheckpoint, type CoseKey, type ErrorCode, type NoteVerifier, type Policy, type ProofFile, type Sign1,
  type SignatureProvider, type VerifiedReceipt, type Verifier,
} from '@scitt/core'
import { isDidKey, publicKeyFromDidKey } from '@scitt/core'
import { TrustedKeys } from './keys.js'
import { VERIFY_CODES, type VerifyCode } from './verify-code.js'

export type CheckStatus = 'ok' | 'failed' | 'skipped'

export interface Check {
  name: string
  status: CheckStatus
  /** What the check found: `OK`, the ScittError code of a failure, or what was missing (verify-code.ts). */
  verifyCode: VerifyCode
  reason: string
  /** The ScittError code a failure or a skip falls under. */
  code?: ErrorCode
  details?: Record<string, unknown>
}

export interface VerificationReport {
  /** True when no check failed and at least one receipt or proof verified. */
  ok: boolean
  kind: 'transparent-statement' | 'receipt' | 'proof'
  entryId?: string
  checks: Check[]
}

/** Asks for a consistency proof of a log (e.g. built from a node's tiles) between two sizes. */
export type ConsistencyProofSource = (request: { origin: string, size1: number, size2: number }) => Promise<Uint8Array[]>

export interface VerifyOptions {
  /** Signature provider (default core's portable one; Node callers pass `nodeSignatures`). */
  provider?: SignatureProvider
  /** Keys the issuer may have signed with. */
  issuerKeys?: readonly CoseKey[]
  /** Accept a did:key iss as the issuer's key. */
  allowDidKey?: boolean
  /** Trusted receipt keys of the nodes (COSE_KeySet files, or keys fetched from nodes). */
  nodeKeys?: readonly CoseKey[] | TrustedKeys
  /** C2SP tlog-policy: the logs and the witness quorum checkpoints must meet. */
  policy?: Policy
  /** Log vkeys for proof files when there is no policy. */
  logKeys?: readonly string[]
  /** Signed checkpoint notes (with cosignatures) that receipts can be bound to. */
  checkpoints?: readonly string[]
  /** Consistency proofs from a receipt's tree to a larger cosigned checkpoint. */
  consistencyProof?: ConsistencyProofSource
  /** POSIX seconds: cosignatures timestamped later do not count. */
  now?: number
}

/** A check with its verify code, and the error code that one falls under (VERIFY_CODES). */
function outcome (name: string, status: CheckStatus, verifyCode: VerifyCode, reason: string, details?: Record<string, unknown>): Check {
  const code = verifyCode in VERIFY_CODES ? VERIFY_CODES[verifyCode as keyof typeof VERIFY_CODES] : verifyCode as ErrorCode
  return { name, status, verifyCode, reason, ...(code === undefined ? {} : { code }), ...(details === undefined ? {} : { details }) }
}

function failed (name: string, err: unknown): Check {
  if (isScittError(err)) return outcome(name, 'failed', err.code, err.message)
  return outcome(name, 'failed', 'ERROR', err instanceof Error ? err.message : String(err))
}

function report (kind: VerificationReport['kind'], checks: Check[], entryId?: string): VerificationReport {
  const verified = checks.some((c) => c.status === 'ok' && (/^receipt\[\d+\]$/.test(c.name) || c.name === 'proof.inclusion'))
  return { ok: verified && !checks.some((c) => c.status === 'failed'), kind, ...(entryId === undefined ? {} : { entryId }), checks }
}

/** The `issuer-signature` check of a decoded statement. */
export function checkIssuer (sign1: Sign1, options: VerifyOptions = {}): Check {
  const name = 'issuer-signature'
  const provider = options.provider ?? portableSignatures
  let info
  try {
    info = validateStatement(sign1)
  } catch (err) {
    return failed(name, err)
  }
  const kid = info.kid === undefined ? 'none' : toHex(info.kid)
  const candidates: Verifier[] = []
  if (options.issuerKeys !== undefined && options.issuerKeys.length > 0) {
    candidates.push(...new TrustedKeys(options.issuerKeys, provider).lookup(info.kid).filter((v) => v.algorithm === info.alg))
  }
  if (options.allowDidKey === true && isDidKey(info.iss)) {
    try {
      const { algorithm, publicKey } = publicKeyFromDidKey(info.iss)
      candidates.push(provider.verifier(algorithm, publicKey))
    } catch (err) {
      return failed(name, err)
    }
  }
  if (candidates.length === 0) {
    if (options.issuerKeys === undefined && options.allowDidKey !== true) {
      return outcome(name, 'skipped', 'NO_ISSUER_KEY', `no issuer key given for ${info.iss}${isDidKey(info.iss) ? ', and did:key issuers are not accepted' : ''}`)
    }
    return outcome(name, 'failed', 'NO_MATCHING_ISSUER_KEY', `no given issuer key matches ${info.alg} kid ${kid} of ${info.iss}`)
  }
  let last: unknown
  for (const verifier of candidates) {
    try {
      verifySign1(sign1, verifier)
      return outcome(name, 'ok', 'OK', `signed by ${info.iss} (${info.alg}, kid ${kid})`, { iss: info.iss, sub: info.sub })
    } catch (err) {
      last = err
    }
  }
  return failed(name, last)
}

/** One verifier for the trusted keys a kid names (usually one key); undefined when there is none. */
function verifierFor (trusted: TrustedKeys, kid: Uint8Array | undefined): Verifier | undefined {
  const candidates = trusted.lookup(kid)
  const [first] = candidates
  if (first === undefined || candidates.length === 1) return first
  return { algorithm: first.algorithm, publicKey: first.publicKey, verify: (m, s) => candidates.some((v) => v.verify(m, s)) }
}

function receiptOk (name: string, verified: VerifiedReceipt): { check: Check, verified: VerifiedReceipt } {
  return {
    verified,
    check: outcome(name, 'ok', 'OK', `included at index ${verified.leafIndex} of ${verified.iss}'s tree of size ${verified.treeSize}`, {
      iss: verified.iss, kid: verified.kid === undefined ? 'none' : toHex(verified.kid),
      treeSize: verified.treeSize, leafIndex: verified.leafIndex, rootHash: toBase64(verified.rootHash),
    }),
  }
}

/**
 * The `receipt[i]` check: inclusion of `leaf` and the receipt signature (RFC 9942 §5.2.1, one verdict
 * for both) under the trusted key its kid names; skipped (NO_TRUSTED_KEY) when no trusted key has it.
 */
export function checkReceipt (
  name: string, receipt: Uint8Array, leaf: Uint8Array, trusted: TrustedKeys,
): { check: Check, verified?: VerifiedReceipt } {
  try {
    return receiptOk(name, verifyReceipt(receipt, { leafHash: leaf }, (kid) => verifierFor(trusted, kid)))
  } catch (err) {
    if (!isScittError(err, 'UNKNOWN_KEY') && !isScittError(err, 'BAD_SIGNATURE')) return { check: failed(name, err) }
  }
  // The slow path, only after a failure: decode first, to explain it and to try the keys of the
  // receipt's algorithm only (a kid may name keys of several algorithms, or there is no kid).
  const decoded = decodeReceipt(receipt)
  const kid = decoded.kid === undefined ? 'none' : toHex(decoded.kid)
  const candidates = trusted.lookup(decoded.kid).filter((v) => v.algorithm === decoded.algorithm)
  if (candidates.length === 0) {
    return { check: outcome(name, 'skipped', 'NO_TRUSTED_KEY', `receipt from ${decoded.iss} is signed by ${decoded.algorithm} kid ${kid}, which is not a trusted node key`) }
  }
  const composite: Verifier = { algorithm: decoded.algorithm, publicKey: candidates[0]!.publicKey, verify: (m, s) => candidates.some((v) => v.verify(m, s)) }
  try {
    return receiptOk(name, verifyReceipt(receipt, { leafHash: leaf }, composite))
  } catch (err) {
    return { check: failed(name, err) }
  }
}

/** Checks each given checkpoint against the policy: `checkpoint[j]` checks, and those that pass. */
export function checkCheckpoints (notes: readonly string[], policy: Policy, now?: number): { checks: Check[], cosigned: CosignedCheckpoint[] } {
  const checks: Check[] = []
  const cosigned: CosignedCheckpoint[] = []
  notes.forEach((note, j) => {
    const name = `checkpoint[${j}]`
    try {
      const c = checkCosignedCheckpoint(policy, note, now)
      cosigned.push(c)
      checks.push(outcome(name, 'ok', 'OK', `${c.checkpoint.origin} at size ${c.checkpoint.size}, cosigned by ${c.witnesses.join(', ') || 'no witness (quorum none)'}`, {
        origin: c.checkpoint.origin, size: c.checkpoint.size, witnesses: c.witnesses,
      }))
    } catch (err) {
      checks.push(failed(name, err))
    }
  })
  return { checks, cosigned }
}

/**
 * The `receipt[i].witnessed` check: the receipt's tree head is covered by a cosigned checkpoint of the
 * receipt's own log. A receipt names its log by its CWT iss (the node's origin); only checkpoints with
 * that origin count, and `cosigned` holds only checkpoints that `checkCosignedCheckpoint` accepted, so
 * each carries a verified signature by a policy log key for its origin (C2SP tlog-policy: a log key's
 * name is the log's origin). Then the tree head must be one of them (same size and root), or consistent
 * with a larger one by a consistency proof (RFC 9162 §2.1.4.2). Checkpoints of other logs are ignored,
 * whatever their size and root: another log's tree, even an identical one, witnesses nothing about this
 * log's.
 */
export async function checkWitnessed (
  name: string, receipt: VerifiedReceipt, cosigned: readonly CosignedCheckpoint[], consistencyProof?: ConsistencyProofSource,
): Promise<Check> {
  const { treeSize, rootHash, iss: origin } = receipt
  const own = cosigned.filter((c) => c.checkpoint.origin === origin)
  const bound = (c: CosignedCheckpoint): Record<string, unknown> => ({
    origin, logKey: c.verified.filter((s) => s.name === origin).map((s) => `${s.name}+${formatKeyId(s.keyId)}`).join(', '), witnesses: c.witnesses,
  })
  const exact = own.find((c) => c.checkpoint.size === treeSize && equalBytes(c.checkpoint.rootHash, rootHash))
  if (exact !== undefined) {
    return outcome(name, 'ok', 'OK', `tree head of size ${treeSize} is ${origin}'s cosigned checkpoint`, bound(exact))
  }
  const same = own.find((c) => c.checkpoint.size === treeSize)
  if (same !== undefined) {
    return outcome(name, 'failed', 'INCONSISTENT', `the cosigned checkpoint of ${origin} at size ${treeSize} has a different root than the receipt`)
  }
  const larger = own.filter((c) => c.checkpoint.size > treeSize).sort((a, b) => a.checkpoint.size - b.checkpoint.size)
  if (larger.length > 0) {
    if (consistencyProof === undefined) {
      return outcome(name, 'failed', 'NO_CONSISTENCY_PROOF',
        `${origin}'s cosigned checkpoints are larger than the receipt's tree size ${treeSize} (sizes ${larger.map((c) => c.checkpoint.size).join(', ')}), and no consistency proof source was given`)
    }
    let last: unknown
    for (const c of larger) {
      try {
        const proof = await consistencyProof({ origin, size1: treeSize, size2: c.checkpoint.size })
        verifyConsistency(treeSize, c.checkpoint.size, rootHash, c.checkpoint.rootHash, proof)
        return outcome(name, 'ok', 'OK', `tree head of size ${treeSize} is consistent with ${origin}'s cosigned checkpoint of size ${c.checkpoint.size}`, {
          ...bound(c), size: c.checkpoint.size,
        })
      } catch (err) {
        last = err
      }
    }
    return failed(name, last)
  }
  const sizes = own.map((c) => c.checkpoint.size)
  const others = [...new Set(cosigned.map((c) => c.checkpoint.origin).filter((o) => o !== origin))]
  return outcome(name, 'failed', 'NO_CHECKPOINT',
    `no checkpoint of ${origin} cosigned per the policy at tree size ${treeSize} or larger was given${sizes.length === 0 ? '' : ` (only sizes ${sizes.join(', ')})`}` +
    `${others.length === 0 ? '' : `; checkpoints of other logs (${others.join(', ')}) do not count`}`)
}

async function verifyWithReceipts (
  kind: 'transparent-statement' | 'receipt', statement: Uint8Array, receipts: () => Uint8Array[], options: VerifyOptions,
): Promise<VerificationReport> {
  let sign1: Sign1
  let entry: Uint8Array
  try {
    sign1 = decodeSign1(statement)
    entry = entryBytes(sign1)
  } catch (err) {
    return report(kind, [failed('statement', err)])
  }
  const leaf = leafHash(entry)
  const id = toHex(leaf)
  const checks: Check[] = [checkIssuer(sign1, options)]
  let list: Uint8Array[]
  try {
    list = receipts()
  } catch (err) {
    return report(kind, [...checks, failed('receipts', err)], id)
  }
  if (list.length === 0) {
    return report(kind, [...checks, outcome('receipts', 'failed', 'NO_RECEIPT', 'the statement carries no receipt (unprotected header label 394)')], id)
  }
  const trusted = options.nodeKeys instanceof TrustedKeys ? options.nodeKeys : new TrustedKeys(options.nodeKeys ?? [], options.provider)
  const cp = options.policy === undefined ? undefined : checkCheckpoints(options.checkpoints ?? [], options.policy, options.now)
  if (cp !== undefined) checks.push(...cp.checks)
  for (const [i, receipt] of list.entries()) {
    const { check, verified } = checkReceipt(`receipt[${i}]`, receipt, leaf, trusted)
    checks.push(check)
    if (verified !== undefined && cp !== undefined) checks.push(await checkWitnessed(`receipt[${i}].witnessed`, verified, cp.cosigned, options.consistencyProof))
  }
  if (!checks.some((c) => /^receipt\[\d+\]$/.test(c.name) && c.status === 'ok')) {
    checks.push(trusted.size === 0
      ? outcome('receipts', 'failed', 'NO_NODE_KEYS', 'no trusted node keys given, so no receipt can verify')
      : outcome('receipts', 'failed', 'NO_RECEIPT_VERIFIED', 'no receipt verified under a trusted node key'))
  }
  return report(kind, checks, id)
}

/** Verifies a transparent statement: the issuer signature and each receipt in label 394. */
export async function verifyTransparentStatement (statement: Uint8Array, options: VerifyOptions = {}): Promise<VerificationReport> {
  return verifyWithReceipts('transparent-statement', statement, () => getReceipts(statement), options)
}

/** Verifies a receipt for a (signed or transparent) statement given beside it. */
export async function verifyStatementReceipt (statement: Uint8Array, receipt: Uint8Array, options: VerifyOptions = {}): Promise<VerificationReport> {
  return verifyWithReceipts('receipt', statement, () => [receipt], options)
}

/** The entry a proof is about: the statement (then its issuer is checked too) or its entry id. */
export interface ProofSubject {
  statement?: Uint8Array
  entryId?: string
}

function logVerifiersFor (origin: string, options: VerifyOptions): NoteVerifier[] {
  const provider = options.provider ?? portableSignatures
  if (options.policy !== undefined) return options.policy.logs.filter((l) => l.name === origin).map((l) => l.verifier)
  return (options.logKeys ?? []).map((vkey) => noteVerifierFromVkey(vkey, provider)).filter((v) => v.name === origin)
}

const PROOF_CHECK: Partial<Record<ErrorCode, string>> = { POLICY: 'proof.witness-quorum', BAD_PROOF: 'proof.inclusion' }

/**
 * Verifies a C2SP tlog-proof file with `verifyProofFile`: the checkpoint's log signature (a policy log
 * for its origin, or one of `logKeys`), the witness quorum with a policy (cosignatures timestamped after
 * `now` do not count), and the inclusion proof.
 */
export async function verifyProof (proofText: Uint8Array | string, subject: ProofSubject, options: VerifyOptions = {}): Promise<VerificationReport> {
  const checks: Check[] = []
  let leaf: Uint8Array
  if (subject.statement !== undefined) {
    let sign1: Sign1
    try {
      sign1 = decodeSign1(subject.statement)
      leaf = leafHash(entryBytes(sign1))
    } catch (err) {
      return report('proof', [failed('statement', err)])
    }
    checks.push(checkIssuer(sign1, options))
  } else if (subject.entryId !== undefined && /^[0-9a-f]{64}$/.test(subject.entryId)) {
    leaf = fromHex(subject.entryId)
  } else {
    return report('proof', [outcome('entry', 'failed', 'NO_PROOF_SUBJECT', 'a proof needs its statement or its entry id (64 lowercase hex digits)')])
  }
  const id = toHex(leaf)
  let file: ProofFile
  let origin: string
  try {
    file = parseProofFile(proofText)
    origin = parseCheckpoint(parseNote(file.checkpoint).text).origin
  } catch (err) {
    return report('proof', [...checks, failed('proof', err)], id)
  }
  const verifiers = logVerifiersFor(origin, options)
  if (verifiers.length === 0) {
    const missing = options.policy === undefined
      ? outcome('proof.checkpoint-signature', 'failed', 'NO_LOG_KEY', `no log key for origin ${JSON.stringify(origin)}: no policy, and no given log key has that name`)
      : outcome('proof.checkpoint-signature', 'failed', 'ORIGIN_NOT_IN_POLICY', `no log key for origin ${JSON.stringify(origin)}: the policy has no log line for it`)
    return report('proof', [...checks, missing], id)
  }
  let last: unknown
  for (const verifier of verifiers) {
    try {
      const cp = verifyProofFile(file, leaf, verifier, options.policy, options.now)
      checks.push(outcome('proof.checkpoint-signature', 'ok', 'OK', `checkpoint of ${cp.origin} at size ${cp.size} signed by its log key`))
      if (options.policy !== undefined) checks.push(outcome('proof.witness-quorum', 'ok', 'OK', `cosignatures meet quorum ${options.policy.quorum ?? 'none'}`))
      checks.push(outcome('proof.inclusion', 'ok', 'OK', `included at index ${file.index} of ${cp.size}`, { origin: cp.origin, size: cp.size, index: file.index }))
      return report('proof', checks, id)
    } catch (err) {
      last = err
      if (!isScittError(err, 'BAD_SIGNATURE')) break
    }
  }
  const code = isScittError(last) ? last.code : undefined
  const name = (code === undefined ? undefined : PROOF_CHECK[code]) ?? 'proof.checkpoint-signature'
  if (name !== 'proof.checkpoint-signature') checks.push(outcome('proof.checkpoint-signature', 'ok', 'OK', `checkpoint of ${origin} signed by its log key`))
  if (name === 'proof.inclusion' && options.policy !== undefined) checks.push(outcome('proof.witness-quorum', 'ok', 'OK', `cosignatures meet quorum ${options.policy.quorum ?? 'none'}`))
  checks.push(failed(name, last))
  return report('proof', checks, id)
}

/** Throws a ScittError (code of the first failed check) unless the report is ok; for SDK callers who want an exception. */
export function assertVerified (result: VerificationReport): void {
  if (result.ok) return
  const bad = result.checks.find((c) => c.status === 'failed')
  throw new ScittError(bad?.code ?? 'BAD_PROOF', bad === undefined ? 'nothing verified' : `${bad.name}: ${bad.reason}`, { details: { report: result } })
}
