/** `scitt keys`: a node's receipt keys (SCRAPI /.well-known/scitt-keys), to trust explicitly. */
import { encodeCoseKeySet, toHex } from '@scitt/core'
import { fetchNodeKeys } from '../fetch.js'
import { EXIT, nodeUrl, printJson, required, writeOutput, type Command } from './common.js'

export const keys: Command = {
  name: 'keys',
  summary: "fetch a node's receipt keys",
  help: `usage: scitt keys --node URL [--out FILE [--force]] [--json]

Fetches the node's receipt verification keys (a COSE_KeySet) and writes them to --out, for use with
scitt verify --node-keys FILE. Fetching keys over the network trusts whoever answered: check the kids
printed here against what the operator publishes before relying on them.

options:
  --node URL   the node (required)
  --out FILE   write the COSE_KeySet here (an existing file is refused; a symlink always)
  --force      replace an existing --out file
  --json       print the keys as JSON

example:
  scitt keys --node http://127.0.0.1:8080 --out node-keys.cbor`,
  options: { node: { type: 'string' }, out: { type: 'string', short: 'o' }, force: { type: 'boolean' } },
  positionals: [0, 0],
  async run (values) {
    const url = nodeUrl(required(values, 'node', 'keys'))
    const found = await fetchNodeKeys(url)
    const out = values.out as string | undefined
    if (out !== undefined) writeOutput(encodeCoseKeySet(found), out, true, values.force === true)
    const rows = found.map((k) => ({ algorithm: k.algorithm, kid: k.kid === undefined ? null : toHex(k.kid) }))
    if (values.json === true) printJson(rows)
    else for (const r of rows) process.stdout.write(`${r.algorithm}  kid ${r.kid ?? '(none)'}\n`)
    return EXIT.ok
  },
}
