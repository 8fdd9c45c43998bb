/** `scitt register`: registers statements at a node (SCRAPI POST /entries), many at once if asked. */
import { basename, join } from 'node:path'
import { mkdirSync } from 'node:fs'
import { decodeSign1, entryBytes, isScittError, leafHash } from '@scitt/core'
import { nodeSignatures } from '@scitt/node-crypto'
import { fetchNodeKeys } from '../fetch.js'
import { TrustedKeys } from '../keys.js'
import { register as registerStatement, type Registration } from '../register.js'
import { checkReceipt } from '../verify.js'
import {
  EXIT, UsageError, checkOutput, info, integer, list, loadPublicKeys, nodeUrl, printJson, progressBar, readInput, required, writeOutput, type Command,
} from './common.js'

interface Outcome {
  file: string
  entryId?: string
  status: 'registered' | 'pending' | 'failed'
  location?: string
  receipt?: string
  error?: string
  /** Set when the node's receipt did not verify (and was not saved). */
  unverified?: boolean
}

export const register: Command = {
  name: 'register',
  summary: 'register statements at a node',
  help: `usage: scitt register --node URL [--no-wait] [--out FILE|DIR [--force] [--node-keys FILE...]] [--concurrency N]
                      [--json] IN...

Registers each Signed Statement IN at the node (SCRAPI POST /entries) and prints, per file, its entry
id and whether it is registered (the node returned the receipt) or pending. A pending entry is
accepted but NOT yet durable: the node answered 303 before the entry was written, and a crash of the
node before its next batch loses it. So registrations are polled until the receipt exists (at most
--wait-ms each); with --no-wait they are printed as pending at once (fetch their receipts later with
scitt get ID --node URL, and register again what never gets one).
With one IN, --out FILE receives the receipt; with several, --out DIR receives IN's name + .receipt.
A receipt is saved only once it verifies (RFC 9942 §5.2.1: the inclusion of IN's entry and the
signature) under the --node-keys keys, or without them under the keys the node serves at
/.well-known/scitt-keys (which catches a wrong or damaged receipt, not a dishonest node: pin the keys).
Existing files are refused before anything is registered, unless --force (a symlink always is).
Several files go out --concurrency at a time (default 4), with a progress bar when stderr is a terminal.
Overloaded nodes (429/503) are retried after their Retry-After.

options:
  --node URL          the node (required)
  --no-wait           do not wait for pending receipts (pending is not durable yet)
  --wait              wait for the receipts (the default; kept for scripts)
  --wait-ms MS        longest wait per statement (default 30000)
  --out FILE|DIR      where to write receipts
  --force             replace existing receipt files
  --node-keys FILE    trusted receipt keys to verify receipts with before saving (COSE_KeySet from
                      scitt keys, COSE_Key or JWK); repeatable
  --concurrency N     statements in flight at once (default 4)
  --json              print the outcomes as JSON

exit: 0 all registered or pending; 1 a receipt did not verify (not saved); 2 if any failed (the reasons
are printed)

example:
  scitt register --node http://127.0.0.1:8080 --out fw.receipt fw.cose`,
  options: {
    node: { type: 'string' }, wait: { type: 'boolean' }, 'no-wait': { type: 'boolean' }, 'wait-ms': { type: 'string' }, out: { type: 'string', short: 'o' },
    concurrency: { type: 'string' }, force: { type: 'boolean' }, 'node-keys': { type: 'string', multiple: true },
  },
  positionals: [1, Infinity],
  async run (values, files) {
    const url = nodeUrl(required(values, 'node', 'register'))
    const concurrency = integer(values.concurrency, 'concurrency', 4)
    const waitMs = integer(values['wait-ms'], 'wait-ms', 30_000)
    if (values.wait === true && values['no-wait'] === true) throw new UsageError('give --wait or --no-wait, not both')
    const wait = values['no-wait'] !== true
    const out = values.out as string | undefined
    const force = values.force === true
    const many = files.length > 1
    const pinned = loadPublicKeys(list(values['node-keys']), '--node-keys')
    if (out === undefined && (pinned.length > 0 || force)) throw new UsageError('--node-keys and --force go with --out')
    const statements = files.map((f) => readInput(f, 65_535 + 16 * 1024))
    const targets = files.map((f) => (out === undefined ? undefined : many ? join(out, `${basename(f)}.receipt`) : out))
    let trusted: TrustedKeys | undefined
    if (out !== undefined) {
      if (many) mkdirSync(out, { recursive: true })
      const seen = new Set<string>()
      for (const target of targets as string[]) {
        if (seen.has(target)) throw new UsageError(`two statements would write ${target}: give them different names`)
        seen.add(target)
        checkOutput(target, force)
      }
      trusted = new TrustedKeys(pinned.length > 0 ? pinned : await fetchNodeKeys(url), nodeSignatures)
    }
    const outcomes = new Array<Outcome>(files.length)
    const bar = progressBar(files.length, 'registering')
    let next = 0
    let done = 0
    const worker = async (): Promise<void> => {
      while (next < files.length) {
        const i = next++
        const file = files[i]!
        try {
          const r: Registration = await registerStatement(url, statements[i]!, { wait, waitMs })
          outcomes[i] = { file, entryId: r.entryId, status: r.receipt === undefined ? 'pending' : 'registered', location: r.location }
          if (r.receipt !== undefined && trusted !== undefined) {
            const target = targets[i]!
            const { check } = checkReceipt('receipt', r.receipt, leafHash(entryBytes(decodeSign1(statements[i]!))), trusted)
            if (check.status !== 'ok') {
              outcomes[i] = { ...outcomes[i], status: 'failed', unverified: true, error: `the node's receipt does not verify (${check.verifyCode}: ${check.reason}); not saved` }
            } else {
              writeOutput(r.receipt, target, true, force)
              outcomes[i].receipt = target
            }
          }
        } catch (err) {
          if (!isScittError(err) && !(err instanceof UsageError)) throw err
          outcomes[i] = { file, status: 'failed', error: isScittError(err) ? `${err.code}: ${err.message}` : err.message }
        }
        bar.tick(++done)
      }
    }
    await Promise.all(Array.from({ length: Math.min(concurrency, files.length) }, worker))
    bar.end()
    if (values.json === true) printJson(outcomes)
    else {
      for (const o of outcomes) {
        if (o.unverified === true) info(`${o.file}: registered as ${o.entryId!}, but ${o.error!}`)
        else if (o.status === 'failed') info(`${o.file}: registration failed: ${o.error!}`)
        else process.stdout.write(`${o.entryId!}  ${o.status}  ${o.file}${o.receipt === undefined ? '' : ` → ${o.receipt}`}\n`)
      }
      if (outcomes.some((o) => o.status === 'pending')) {
        info(`pending entries${out === undefined ? '' : ' (no receipt written)'} are accepted but not yet durable (a crash of the node can lose them): fetch their receipts with scitt get ID --node URL, and register again what never gets one`)
      }
    }
    if (outcomes.some((o) => o.unverified === true)) return EXIT.failed
    return outcomes.some((o) => o.status === 'failed') ? EXIT.usage : EXIT.ok
  },
}
