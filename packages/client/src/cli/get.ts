/** `scitt get`: an entry's receipt, transparent statement or tlog-proof from any node. */
import { checkCosignedCheckpoint, isScittError, parseProofFile, type Policy } from '@scitt/core'
import { fetchProof, fetchReceipt, fetchTransparentStatement } from '../fetch.js'
import type { PollOptions } from '../poll.js'
import { EXIT, UsageError, checkOutput, integer, loadPolicy, nodeUrl, required, writeOutput, type Command } from './common.js'

/** Why a proof's checkpoint is not ready: its cosignatures do not meet the quorum yet. Other failures throw. */
function quorumPending (policy: Policy): (body: Uint8Array) => string | undefined {
  return (body) => {
    try {
      checkCosignedCheckpoint(policy, parseProofFile(body).checkpoint, Math.floor(Date.now() / 1000))
      return undefined
    } catch (err) {
      if (isScittError(err, 'POLICY')) return `the proof's checkpoint does not meet the policy's quorum yet (${err.message})`
      throw err
    }
  }
}

export const get: Command = {
  name: 'get',
  summary: 'fetch a receipt, transparent statement or proof',
  help: `usage: scitt get ID --node URL [--statement [--min-receipts N] | --proof [--policy FILE]] [--wait SECONDS]
                    [--out FILE [--force]]

Fetches from the node, for the entry ID (64 hex digits, printed by scitt register):
  (default)     its COSE receipt (SCRAPI GET /entries/ID)
  --statement   the transparent statement: the statement with every receipt the node holds
  --proof       the C2SP tlog-proof file: inclusion proof and cosigned checkpoint, verifiable offline
Any node that holds the entry can answer: the registry it was registered at, or any node that
mirrors that registry (it answers with the registry's own receipt). Output goes to --out or stdout.

Right after registering at one node, another may not hold the entry yet (a mirror catches up within
seconds): --wait polls while the node answers 404 (not here yet) or 202 (registered, not integrated
yet), after the Retry-After the node sends, for at most SECONDS, then fails (exit 2).

options:
  --node URL          the node (required)
  --wait SECONDS      keep polling this long while the entry is not there yet (default 0: ask once)
  --min-receipts N    with --statement: also wait (within --wait) until it carries N receipts, e.g. 2 at a
                      node that mirrors the registry and cross-registers its entries (its own comes later)
  --policy FILE       with --proof: also wait until the proof's checkpoint meets this C2SP tlog-policy's
                      witness quorum (cosignatures arrive moments after a new checkpoint); exit 1 if
                      the checkpoint is not signed by the policy's log key
  --out FILE          write here instead of stdout (an existing file is refused; a symlink always)
  --force             replace an existing --out file

exit: 0 fetched; 1 the proof's checkpoint fails --policy; 2 not found, timed out, or a usage or input error

example:
  scitt get 3f1a…e2 --node http://127.0.0.1:8081 --statement --wait 30 --out fw.transparent.cose
  scitt get 3f1a…e2 --node http://127.0.0.1:8082 --proof --policy federation.policy --wait 30 --out fw.tlog-proof`,
  options: {
    node: { type: 'string' }, statement: { type: 'boolean' }, proof: { type: 'boolean' }, out: { type: 'string', short: 'o' }, force: { type: 'boolean' },
    wait: { type: 'string' }, 'min-receipts': { type: 'string' }, policy: { type: 'string' },
  },
  positionals: [1, 1],
  async run (values, [id]) {
    const url = nodeUrl(required(values, 'node', 'get'))
    if (values.statement === true && values.proof === true) throw new UsageError('give at most one of --statement and --proof')
    if (values['min-receipts'] !== undefined && values.statement !== true) throw new UsageError('--min-receipts goes with --statement')
    if (values.policy !== undefined && values.proof !== true) throw new UsageError('--policy goes with --proof')
    if (!/^[0-9a-f]{64}$/.test(id!)) throw new UsageError(`ID must be an entry id of 64 lowercase hex digits, got ${JSON.stringify(id)}`)
    const waitMs = integer(values.wait, 'wait', 0, 0) * 1000
    if (waitMs > 86_400_000) throw new UsageError('--wait is at most 86400 seconds')
    const polling: PollOptions = { waitMs, whileNotFound: waitMs > 0, maxPollMs: 1000 }
    const out = values.out as string | undefined
    const force = values.force === true
    if (out !== undefined && out !== '-') checkOutput(out, force)
    if (values.proof === true) {
      const policy = loadPolicy(values.policy as string | undefined)
      writeOutput(await fetchProof(url, id!, policy === undefined ? polling : { ...polling, notReady: quorumPending(policy) }), out, false, force)
    }
    else if (values.statement === true) {
      const minReceipts = values['min-receipts'] === undefined ? {} : { minReceipts: integer(values['min-receipts'], 'min-receipts', 1) }
      writeOutput(await fetchTransparentStatement(url, id!, { ...polling, ...minReceipts }), out, true, force)
    } else writeOutput(await fetchReceipt(url, id!, polling), out, true, force)
    return EXIT.ok
  },
}
