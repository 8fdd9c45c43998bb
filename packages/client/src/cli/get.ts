/** `scitt get`: an entry's receipt, transparent statement or tlog-proof from any node. */
import { fetchProof, fetchReceipt, fetchTransparentStatement } from '../fetch.js'
import { EXIT, UsageError, integer, nodeUrl, required, writeOutput, type Command } from './common.js'

export const get: Command = {
  name: 'get',
  summary: 'fetch a receipt, transparent statement or proof',
  help: `usage: scitt get ID --node URL [--statement | --proof] [--wait-ms MS] [--out FILE]

Fetches from the node, for the entry ID (64 hex digits, printed by scitt register):
  (default)     its COSE receipt (SCRAPI GET /entries/ID)
  --statement   the transparent statement: the statement with every receipt the node holds
  --proof       the C2SP tlog-proof file: inclusion proof and cosigned checkpoint, verifiable offline
Any node that holds the entry (its own log or a mirror) can answer. Output goes to --out or stdout.

options:
  --node URL     the node (required)
  --wait-ms MS   keep polling this long while the receipt is not ready (default 0)
  --out FILE     write here instead of stdout

example:
  scitt get 3f1a…e2 --node http://127.0.0.1:8080 --statement --out fw.transparent.cose`,
  options: {
    node: { type: 'string' }, statement: { type: 'boolean' }, proof: { type: 'boolean' }, out: { type: 'string', short: 'o' },
    'wait-ms': { type: 'string' },
  },
  positionals: [1, 1],
  async run (values, [id]) {
    const url = nodeUrl(required(values, 'node', 'get'))
    if (values.statement === true && values.proof === true) throw new UsageError('give at most one of --statement and --proof')
    if (!/^[0-9a-f]{64}$/.test(id!)) throw new UsageError(`ID must be an entry id of 64 lowercase hex digits, got ${JSON.stringify(id)}`)
    const out = values.out as string | undefined
    if (values.proof === true) writeOutput(await fetchProof(url, id!), out, false)
    else if (values.statement === true) writeOutput(await fetchTransparentStatement(url, id!), out, true)
    else writeOutput(await fetchReceipt(url, id!, { waitMs: integer(values['wait-ms'], 'wait-ms', 0, 0) }), out, true)
    return EXIT.ok
  },
}
