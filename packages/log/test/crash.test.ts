/**
 * Crash test with a real process: crash-child.ts appends to a LevelDB log under load and is killed
 * with SIGKILL at a random moment, eight times on one directory. After each kill the log reopens
 * (re-signing a stored tail if the kill fell between the writes), and: every acknowledged entry is
 * at its index, every published checkpoint is stored with its root, fsck passes, and no size was
 * ever published with two roots.
 */
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import { Level } from 'level'
import { equalBytes, parseCheckpoint, toHex } from '@scitt/core'
import { Log } from '@scitt/log'
import { SignatureRecord, entryOf, filesIn, logOptions, noteVerifier, receiptVerifier } from './harness.js'

const ROUNDS = 8
const child = fileURLToPath(new URL('./crash-child.ts', import.meta.url))
const repo = fileURLToPath(new URL('../../../', import.meta.url))

interface Round { ready: boolean, acks: Array<[number, string]>, checkpoints: Array<[number, string]> }

/** Runs the child until a random moment after it is ready, then SIGKILLs it. */
async function runAndKill (dir: string, round: number, killAfterMs: number): Promise<Round> {
  const proc = spawn(process.execPath, ['--conditions=source', '--import', 'tsx', child, dir, String(round)], {
    cwd: repo, stdio: ['ignore', 'pipe', 'inherit'],
  })
  const result: Round = { ready: false, acks: [], checkpoints: [] }
  const lines = createInterface({ input: proc.stdout })
  const closed = new Promise((resolve) => lines.once('close', resolve))
  const exited = new Promise<[number | null, string | null]>((resolve) => proc.once('exit', (c, s) => resolve([c, s])))
  lines.on('line', (line) => {
    const [kind, a, b] = line.split(' ')
    if (kind === 'ready') {
      result.ready = true
      setTimeout(() => proc.kill('SIGKILL'), killAfterMs)
    } else if (kind === 'ack') result.acks.push([Number(a), line.split(' ').slice(2).join(' ')])
    else if (kind === 'cp') result.checkpoints.push([Number(a), b!])
  })
  const [code, signal] = await exited
  await closed
  assert.equal(signal, 'SIGKILL', `child exited by itself with code ${String(code)}`)
  return result
}

describe('Log killed with SIGKILL under load', function () {
  this.timeout(60_000)
  let dir: string

  before(async () => { dir = await mkdtemp(join(tmpdir(), 'scitt-log-crash-')) })
  after(async () => { await rm(dir, { recursive: true, force: true }) })

  it(`loses nothing acknowledged and never signs two roots for one size, over ${ROUNDS} kills`, async () => {
    const acked = new Map<string, number>()
    const published = new Map<number, string>()
    let total = 0
    let resigned = 0
    for (let round = 0; round < ROUNDS; round++) {
      const { ready, acks, checkpoints } = await runAndKill(dir, round, 100 + Math.floor(Math.random() * 400))
      assert.ok(ready, 'the child opened the log')
      for (const [index, label] of acks) {
        const known = acked.get(label)
        assert.ok(known === undefined || known === index, `${label} was acknowledged at ${known} and ${index}`)
        acked.set(label, index)
      }
      for (const [size, root] of checkpoints) {
        const known = published.get(size)
        assert.ok(known === undefined || known === root, `size ${size} was published with roots ${known} and ${root}`)
        published.set(size, root)
      }
      total += acks.length

      const db = new Level<Uint8Array, Uint8Array>(dir, { keyEncoding: 'view', valueEncoding: 'view' })
      await db.open()
      const record = new SignatureRecord()
      const log = await Log.open(logOptions(db, record, { files: filesIn(dir) }))
      const size = log.latestCheckpoint()!.size
      for (const [label, index] of acked) {
        assert.ok(index < size, `acknowledged ${label} at ${index} is inside the reopened log of size ${size}`)
        assert.ok(equalBytes(await log.entry(index), entryOf(label)), `entry ${index} is ${label}`)
      }
      for (const [s, root] of published) assert.equal(toHex((await log.checkpointAt(s)).rootHash), root, `checkpoint ${s}`)
      // What the reopened log signed (a tail stored before the kill, between the tree and checkpoint writes)
      // agrees with everything published for that size.
      for (const text of record.texts) {
        const cp = parseCheckpoint(text)
        const known = published.get(cp.size)
        assert.ok(known === undefined || known === toHex(cp.rootHash), `size ${cp.size} re-signed with another root`)
        published.set(cp.size, toHex(cp.rootHash))
        resigned++
      }
      const report = await log.fsck({ noteVerifiers: [noteVerifier], receiptVerifiers: [receiptVerifier] })
      assert.deepEqual(report.errors, [])
      assert.equal(report.size, size)
      await log.close()
      await db.close()
    }
    assert.ok(total > 1000, `only ${total} acknowledgements in ${ROUNDS} rounds`)
    console.log(`      (${total} acknowledgements, ${published.size} checkpoints, ${resigned} tails signed at reopen)`)
  })
})
