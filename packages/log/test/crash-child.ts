/**
 * The process the crash test kills: opens the log in DIR (LevelDB) and appends under load until it is
 * killed. It writes, synchronously so that nothing waits in a buffer, one line per event:
 *   ready <size>            the log is open
 *   ack <index> <label>     add(entryOf(label)) resolved with index
 *   cp <size> <root hex>    a checkpoint was published
 * Usage: node --conditions=source --import tsx crash-child.ts DIR ROUND
 */
import { writeSync } from 'node:fs'
import { Level } from 'level'
import { isScittError, toHex } from '@scitt/core'
import { Log } from '@scitt/log'
import { SignatureRecord, entryOf, filesIn, logOptions } from './harness.js'

const [dir, round] = process.argv.slice(2)
if (dir === undefined || round === undefined) throw new Error('usage: crash-child.ts DIR ROUND')
const out = (line: string): void => { writeSync(1, line + '\n') }

const db = new Level<Uint8Array, Uint8Array>(dir, { keyEncoding: 'view', valueEncoding: 'view' })
await db.open()
const log = await Log.open(logOptions(db, new SignatureRecord(), { files: filesIn(dir), batchSize: 64, batchAgeMs: 2, maxPending: 1024 }))
log.onCheckpoint((cp) => out(`cp ${cp.size} ${toHex(cp.rootHash)}`))
out(`ready ${log.latestCheckpoint()!.size}`)

let next = 0
const acked: string[] = []
async function worker (): Promise<void> {
  for (;;) {
    // One add in ten repeats an entry acknowledged earlier in this round: it must keep its index.
    const label = next % 10 === 9 && acked.length > 0 ? acked[next++ % acked.length]! : `r${round} e${next++}`
    try {
      const { index } = await log.add(entryOf(label))
      acked.push(label)
      out(`ack ${index} ${label}`)
    } catch (err) {
      if (!isScittError(err, 'PUSHBACK')) throw err
      await new Promise((resolve) => setTimeout(resolve, 1))
    }
  }
}
await Promise.all(Array.from({ length: 256 }, worker))
