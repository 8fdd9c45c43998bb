/** `scitt checkpoint`: a node's latest checkpoint, checked against a tlog-policy when given. */
import { checkCosignedCheckpoint, parseCheckpoint, parseNote, toBase64 } from '@scitt/core'
import { fetchCheckpoint, logPrefix } from '../fetch.js'
import { EXIT, loadPolicy, nodeUrl, printJson, required, type Command } from './common.js'

export const checkpoint: Command = {
  name: 'checkpoint',
  summary: "show a node's checkpoint, checked against a policy",
  help: `usage: scitt checkpoint --node URL [--origin ORIGIN] [--policy FILE] [--json]

Fetches the signed checkpoint of the node's own log (or, with --origin, of a log it mirrors) and
prints its origin, tree size and root hash. With --policy (a C2SP tlog-policy file) it also checks the
log's signature and that the cosignatures meet the policy's quorum, and exits 1 if they do not.

options:
  --node URL        the node (required)
  --origin ORIGIN   a mirrored log's origin
  --policy FILE     check against this tlog-policy
  --json            print as JSON (with the note)

example:
  scitt checkpoint --node http://127.0.0.1:8080 --policy federation.policy`,
  options: { node: { type: 'string' }, origin: { type: 'string' }, policy: { type: 'string' } },
  positionals: [0, 0],
  async run (values) {
    const url = nodeUrl(required(values, 'node', 'checkpoint'))
    const policy = loadPolicy(values.policy as string | undefined)
    const origin = values.origin as string | undefined
    const note = await fetchCheckpoint({ nodeUrl: url, ...(origin === undefined ? {} : { prefix: logPrefix(origin) }) })
    const cp = parseCheckpoint(parseNote(note).text)
    const out: Record<string, unknown> = { origin: cp.origin, size: cp.size, rootHash: toBase64(cp.rootHash) }
    let code: number = EXIT.ok
    if (policy !== undefined) {
      try {
        out.witnesses = checkCosignedCheckpoint(policy, note, Math.floor(Date.now() / 1000)).witnesses
        out.policy = 'ok'
      } catch (err) {
        out.policy = 'failed'
        out.reason = (err as Error).message
        code = EXIT.failed
      }
    }
    if (values.json === true) printJson({ ...out, note })
    else {
      process.stdout.write(`origin  ${cp.origin}\nsize    ${cp.size}\nroot    ${toBase64(cp.rootHash)}\n`)
      if (out.policy === 'ok') process.stdout.write(`policy  ok (cosigned by ${(out.witnesses as string[]).join(', ') || 'no witness needed'})\n`)
      if (out.policy === 'failed') process.stdout.write(`policy  FAILED: ${out.reason as string}\n`)
    }
    return code
  },
}
