/** `scitt register`: registers statements at a node (SCRAPI POST /entries), many at once if asked. */
import { basename, join } from 'node:path'
import { mkdirSync } from 'node:fs'
import { isScittError } from '@scitt/core'
import { register as registerStatement, type Registration } from '../register.js'
import {
  EXIT, UsageError, info, integer, nodeUrl, printJson, progressBar, readInput, required, writeOutput, type Command,
} from './common.js'

interface Outcome {
  file: string
  entryId?: string
  status: 'registered' | 'pending' | 'failed'
  location?: string
  receipt?: string
  error?: string
}

export const register: Command = {
  name: 'register',
  summary: 'register statements at a node',
  help: `usage: scitt register --node URL [--wait] [--out FILE|DIR] [--concurrency N] [--json] IN...

Registers each Signed Statement IN at the node (SCRAPI POST /entries) and prints, per file, its entry
id and whether it is registered (the node returned the receipt) or pending (poll it later with
scitt get ID --node URL). With --wait, pending registrations are polled until the receipt exists.
With one IN, --out FILE receives the receipt; with several, --out DIR receives IN's name + .receipt.
Several files go out --concurrency at a time (default 4), with a progress bar when stderr is a terminal.
Overloaded nodes (429/503) are retried after their Retry-After.

options:
  --node URL          the node (required)
  --wait              wait for the receipts
  --wait-ms MS        longest wait per statement (default 30000)
  --out FILE|DIR      where to write receipts
  --concurrency N     statements in flight at once (default 4)
  --json              print the outcomes as JSON

exit: 0 all registered or pending; 2 if any failed (the reasons are printed)

example:
  scitt register --node http://127.0.0.1:8080 --wait --out fw.receipt fw.cose`,
  options: {
    node: { type: 'string' }, wait: { type: 'boolean' }, 'wait-ms': { type: 'string' }, out: { type: 'string', short: 'o' },
    concurrency: { type: 'string' },
  },
  positionals: [1, Infinity],
  async run (values, files) {
    const url = nodeUrl(required(values, 'node', 'register'))
    const concurrency = integer(values.concurrency, 'concurrency', 4)
    const waitMs = integer(values['wait-ms'], 'wait-ms', 30_000)
    const out = values.out as string | undefined
    const many = files.length > 1
    if (many && out !== undefined) mkdirSync(out, { recursive: true })
    const statements = files.map((f) => readInput(f, 65_535 + 16 * 1024))
    const outcomes: Outcome[] = new Array(files.length)
    const bar = progressBar(files.length, 'registering')
    let next = 0
    let done = 0
    const worker = async (): Promise<void> => {
      while (next < files.length) {
        const i = next++
        const file = files[i]!
        try {
          const r: Registration = await registerStatement(url, statements[i]!, { wait: values.wait === true, waitMs })
          outcomes[i] = { file, entryId: r.entryId, status: r.receipt === undefined ? 'pending' : 'registered', location: r.location }
          if (r.receipt !== undefined && out !== undefined) {
            const target = many ? join(out, `${basename(file)}.receipt`) : out
            writeOutput(r.receipt, target, true)
            outcomes[i]!.receipt = target
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
        if (o.status === 'failed') info(`${o.file}: registration failed: ${o.error!}`)
        else process.stdout.write(`${o.entryId!}  ${o.status}  ${o.file}${o.receipt === undefined ? '' : ` → ${o.receipt}`}\n`)
      }
      if (outcomes.some((o) => o.status === 'pending')) {
        info(`pending entries${out === undefined ? '' : ' (no receipt written)'}: fetch their receipts later with scitt get ID --node URL, or register with --wait`)
      }
    }
    return outcomes.some((o) => o.status === 'failed') ? EXIT.usage : EXIT.ok
  },
}
