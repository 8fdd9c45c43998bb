/** `scitt verify`: offline verification of a transparent statement, a receipt or a tlog-proof. */
import { decodeSign1, fromUtf8, parseCheckpoint, parseNote, parseProofFile, type Sign1 } from '@scitt/core'
import { nodeSignatures } from '@scitt/node-crypto'
import { fetchCheckpoint, fetchNodeKeys, logPrefix, type TileSource } from '../fetch.js'
import { consistencyProofFromTiles } from '../tile-proofs.js'
import {
  verifyProof, verifyStatementReceipt, verifyTransparentStatement,
  type ConsistencyProofSource, type VerificationReport, type VerifyOptions,
} from '../verify.js'
import {
  EXIT, UsageError, info, list, loadPolicy, loadPublicKeys, nodeUrl, printJson, readInput, type Command,
} from './common.js'
import { VERIFY_HINTS } from './hints.js'

const PROOF_HEADER = 'c2sp.org/tlog-proof@v1\n'

type Kind = 'proof' | 'receipt' | 'statement'

function kindOf (bytes: Uint8Array, file: string): { kind: Kind, sign1?: Sign1 } {
  if (fromUtf8Prefix(bytes) === PROOF_HEADER) return { kind: 'proof' }
  let sign1: Sign1
  try {
    sign1 = decodeSign1(bytes)
  } catch (err) {
    throw new UsageError(`${file} is neither a COSE_Sign1 (statement, receipt) nor a tlog-proof file: ${(err as Error).message}`)
  }
  return { kind: sign1.protectedHeader.has(395) ? 'receipt' : 'statement', sign1 }
}

function fromUtf8Prefix (bytes: Uint8Array): string {
  try {
    return fromUtf8(bytes.subarray(0, PROOF_HEADER.length))
  } catch {
    return ''
  }
}

/** The checkpoint note of a proof file, to bind receipts to. */
function proofCheckpoint (file: string): string {
  try {
    return parseProofFile(readInput(file, 2 << 20)).checkpoint
  } catch (err) {
    if (err instanceof UsageError) throw err
    throw new UsageError(`--proof ${file}: ${(err as Error).message}`)
  }
}

/** Consistency proofs from the tiles a node serves for an origin (its own log, or a mirror). */
function tileConsistency (url: string): ConsistencyProofSource {
  return async ({ origin, size1, size2 }) => {
    const own = parseCheckpoint(parseNote(await fetchCheckpoint({ nodeUrl: url })).text).origin
    const source: TileSource = own === origin ? { nodeUrl: url } : { nodeUrl: url, prefix: logPrefix(origin) }
    return consistencyProofFromTiles(source, size1, size2)
  }
}

/** Each check on a line, and under one that failed or was skipped, the hint its code has. */
function printReport (result: VerificationReport): void {
  for (const c of result.checks) {
    const status = c.status === 'ok' ? 'ok     ' : c.status === 'failed' ? 'FAILED ' : 'skipped'
    process.stdout.write(`${status}  ${c.name.padEnd(28)} ${c.status === 'ok' ? '' : `${c.verifyCode}: `}${c.reason}\n`)
    const hint = c.status === 'ok' ? undefined : VERIFY_HINTS[c.verifyCode]
    if (hint !== undefined) process.stdout.write(`${' '.repeat(38)}hint: ${hint}\n`)
  }
  if (result.ok) process.stdout.write(`verified${result.entryId === undefined ? '' : ` entry ${result.entryId}`}\n`)
  else {
    const failed = result.checks.filter((c) => c.status === 'failed').map((c) => c.name)
    process.stdout.write(`verification FAILED${failed.length === 0 ? '' : `: ${failed.join(', ')}`}\n`)
  }
}

export const verify: Command = {
  name: 'verify',
  summary: 'verify a transparent statement, receipt or proof offline',
  help: `usage: scitt verify FILE [--node-keys FILE...] [--issuer-key KEY...] [--allow-did-key] [--policy FILE]
                    [--checkpoint FILE...] [--proof FILE...] [--statement FILE] [--entry ID] [--log-key VKEY...]
                    [--node URL [--tofu]] [--json]

Verifies FILE offline and prints each check with ok / FAILED / skipped, the code of a check that
did not pass (with --json: verifyCode) and, under a check that misses a key, checkpoint or input,
a hint naming the flag that gives it. FILE may be:
  a transparent statement   the issuer signature and each receipt it carries (label 394)
  a receipt                 needs --statement FILE: the receipt is checked for that statement
  a .tlog-proof file        needs --statement FILE or --entry ID; log key from --policy or --log-key
Checks: statement, issuer-signature (needs --issuer-key or --allow-did-key, else skipped),
receipt[i] (inclusion proof and signature under a --node-keys key; receipts by unknown keys are
skipped, at least one must verify), and with --policy: checkpoint[j] (each --checkpoint / --proof
checkpoint is signed by a policy log and meets the witness quorum) and receipt[i].witnessed (the
receipt's tree head is one of those cosigned checkpoints of the receipt's own log, the origin its iss
names; with --node, or consistent with a larger one through a consistency proof read from the node's
tiles; checkpoints of other logs never count). For a proof: proof.checkpoint-signature,
proof.witness-quorum, proof.inclusion.

options:
  --node-keys FILE     trusted receipt keys (COSE_KeySet from scitt keys, COSE_Key or JWK); repeatable
  --issuer-key KEY     the issuer's public key: a file (COSE_Key, JWK) or a did:key; repeatable
  --allow-did-key      accept a did:key iss as the issuer's key
  --policy FILE        C2SP tlog-policy: trusted logs and witness quorum
  --checkpoint FILE    a cosigned checkpoint note to bind receipts to; repeatable
  --proof FILE         a tlog-proof file whose checkpoint binds receipts; repeatable (one per log)
  --statement FILE     the statement a receipt or proof is for
  --entry ID           the entry id a proof is for (when the statement is not at hand)
  --log-key VKEY       log verifier key for proofs without a policy; repeatable
  --node URL           fetch consistency proofs from this node's tiles (network)
  --tofu               with --node and no --node-keys: trust the keys the node serves (trust on first use)
  --json               print the report as JSON

exit: 0 verified; 1 a check failed; 2 usage or input error

example:
  scitt verify fw.transparent.cose --node-keys node-keys.cbor --allow-did-key --policy federation.policy --proof fw.tlog-proof`,
  options: {
    'node-keys': { type: 'string', multiple: true }, 'issuer-key': { type: 'string', multiple: true }, 'allow-did-key': { type: 'boolean' },
    policy: { type: 'string' }, checkpoint: { type: 'string', multiple: true }, proof: { type: 'string', multiple: true }, statement: { type: 'string' },
    entry: { type: 'string' }, 'log-key': { type: 'string', multiple: true }, node: { type: 'string' }, tofu: { type: 'boolean' },
  },
  positionals: [1, 1],
  async run (values, [file]) {
    const bytes = readInput(file!, 4 << 20)
    const { kind } = kindOf(bytes, file!)
    const url = values.node === undefined ? undefined : nodeUrl(values.node as string)
    let nodeKeys = loadPublicKeys(list(values['node-keys']), '--node-keys')
    if (values.tofu === true) {
      if (url === undefined) throw new UsageError('--tofu needs --node URL to fetch the keys from')
      if (nodeKeys.length === 0) {
        nodeKeys = await fetchNodeKeys(url)
        info(`warning: trusting ${nodeKeys.length} receipt key(s) fetched from ${url} (--tofu); save them with scitt keys --out and pass --node-keys instead`)
      }
    }
    const issuerKeys = loadPublicKeys(list(values['issuer-key']), '--issuer-key')
    const policy = loadPolicy(values.policy as string | undefined)
    const checkpoints = list(values.checkpoint).map((f) => fromUtf8(readInput(f, 1 << 20)))
    for (const f of list(values.proof)) checkpoints.push(proofCheckpoint(f))
    if (checkpoints.length > 0 && policy === undefined) throw new UsageError('--checkpoint and --proof bind receipts to cosigned checkpoints: they need --policy FILE')
    const options: VerifyOptions = {
      provider: nodeSignatures,
      nodeKeys,
      ...(issuerKeys.length === 0 ? {} : { issuerKeys }),
      allowDidKey: values['allow-did-key'] === true,
      ...(policy === undefined ? {} : { policy }),
      checkpoints,
      logKeys: list(values['log-key']),
      now: Math.floor(Date.now() / 1000),
      ...(url === undefined ? {} : { consistencyProof: tileConsistency(url) }),
    }
    const statement = values.statement === undefined ? undefined : readInput(values.statement as string, 4 << 20)
    let result: VerificationReport
    if (kind === 'proof') {
      if (statement === undefined && values.entry === undefined) throw new UsageError('verifying a proof needs --statement FILE or --entry ID')
      if (statement === undefined && !/^[0-9a-f]{64}$/.test(values.entry as string)) throw new UsageError('--entry must be an entry id of 64 lowercase hex digits')
      result = await verifyProof(bytes, statement === undefined ? { entryId: values.entry as string } : { statement }, options)
    } else if (kind === 'receipt') {
      if (statement === undefined) throw new UsageError(`${file!} is a receipt: give the statement it is for with --statement FILE`)
      result = await verifyStatementReceipt(statement, bytes, options)
    } else {
      result = await verifyTransparentStatement(bytes, options)
    }
    if (values.json === true) printJson(result)
    else printReport(result)
    return result.ok ? EXIT.ok : EXIT.failed
  },
}
