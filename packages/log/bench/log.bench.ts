/**
 * @scitt/log benchmarks, side by side in one run:
 * - the raw LevelDB batch-put rate of the same entry bytes (batches of 256, sync) — the baseline;
 * - appends/s into the LevelDB log with a signed checkpoint and seal per batch (target ≥ 40 % of it);
 * - inclusion proofs/s on a 1 M-entry log, 16 in flight (target ≥ 20 k/s);
 * - growth: appends/s and proof time at the largest size vs at 100 k, and peak RSS (< 300 MiB).
 * SCITT_BENCH_FULL=1 grows the log to 10 M entries (several minutes) instead of 1 M;
 * SCITT_BENCH_LOG_ENTRIES=N grows it to N (≥ 200 000) instead.
 * The bench holds no per-entry data itself: entries are derived from their index.
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Level } from 'level'
import { ed25519NoteSigner, receiptProtectedHeader, sha256Digest, utf8 } from '@scitt/core'
import { nodeSignatures } from '@scitt/node-crypto'
import { LEVELDB_OPTIONS, Log } from '@scitt/log'
import { peakRssMiB, rssSplitMiB, type Bench } from '../../../scripts/bench-lib.js'
import { useNodeSha256 } from '@scitt/node-crypto'

const ORIGIN = 'bench.example/log'
const ENTRY_SIZE = 500
const BATCH = 256
const IN_FLIGHT = 4096

/** A distinct ~500-byte entry per index. */
function entry (i: number): Uint8Array {
  const e = new Uint8Array(ENTRY_SIZE)
  e.fill(0x61)
  new DataView(e.buffer).setFloat64(0, i)
  return e
}

async function tempLevel (): Promise<{ db: Level<Uint8Array, Uint8Array>, dir: string, done: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), 'scitt-log-bench-'))
  const db = new Level<Uint8Array, Uint8Array>(dir, LEVELDB_OPTIONS)
  await db.open()
  return { db, dir, done: async () => { await db.close(); await rm(dir, { recursive: true, force: true }) } }
}

async function openLog (db: Level<Uint8Array, Uint8Array>, dir: string): Promise<Log> {
  const receiptSigner = nodeSignatures.signer('Ed25519', sha256Digest(utf8('bench receipt key')))
  return Log.open({
    db,
    // As in a node's data dir (packages/node/src/data-dir.ts).
    files: { dir: join(dir, 'log'), nodesDir: join(dir, 'nodes', 'log') },
    origin: ORIGIN,
    logSigner: ed25519NoteSigner(ORIGIN, sha256Digest(utf8('bench log key')), nodeSignatures),
    receiptSigner,
    receiptProtected: receiptProtectedHeader({ alg: 'Ed25519', kid: utf8('bench'), iss: 'https://bench.example' }),
    batchSize: BATCH,
    maxPending: IN_FLIGHT * 2,
  })
}

/** Appends entries [from, to) with IN_FLIGHT adds outstanding; returns appends/s. */
async function append (log: Log, from: number, to: number): Promise<number> {
  let next = from
  const start = performance.now()
  const worker = async (): Promise<void> => {
    while (next < to) await log.add(entry(next++))
  }
  await Promise.all(Array.from({ length: IN_FLIGHT }, worker))
  return (to - from) / ((performance.now() - start) / 1000)
}

/** Inclusion proofs/s at the log's size, 16 in flight, for minMs. */
async function proofs (log: Log, minMs: number): Promise<number> {
  const size = log.latestCheckpoint()!.size
  let calls = 0
  const deadline = performance.now() + minMs
  const start = performance.now()
  const worker = async (): Promise<void> => {
    while (performance.now() < deadline) {
      await log.inclusionProof(Math.floor(Math.random() * size), size)
      calls++
    }
  }
  await Promise.all(Array.from({ length: 16 }, worker))
  return calls / ((performance.now() - start) / 1000)
}

export default async function (bench: Bench): Promise<void> {
  useNodeSha256() // a Node process: core hashes with node:crypto
  const measured = 100_000

  // Baseline: the same entry bytes, put in batches of 256 with sync, keyed by index.
  {
    const { db, done } = await tempLevel()
    const start = performance.now()
    for (let i = 0; i < measured; i += BATCH) {
      const ops = []
      for (let j = i; j < i + BATCH; j++) {
        const key = new Uint8Array(8)
        new DataView(key.buffer).setFloat64(0, j)
        ops.push({ type: 'put' as const, key, value: entry(j) })
      }
      await db.batch(ops, { sync: true })
    }
    bench.record('raw LevelDB batch put (256 per batch, sync, 500 B)', measured / ((performance.now() - start) / 1000), 'entries/s')
    await done()
  }

  // The log: entries + tiles + index in one sync batch, then a signed checkpoint and seal, per batch.
  const { db, dir, done } = await tempLevel()
  const log = await openLog(db, dir)
  const at100k = await append(log, 0, measured)
  bench.record('log append (signed checkpoint per 256, sync)', at100k, 'entries/s', {
    baseline: 'raw LevelDB batch put (256 per batch, sync, 500 B)', target: '≥ 0.40×',
  })
  const proofsAt100k = await proofs(log, 2000)
  bench.record('inclusion proofs at 100 k (16 in flight)', proofsAt100k, 'proofs/s')

  const largest = largestSize()
  const label = largest % 1_000_000 === 0 ? `${largest / 1_000_000} M` : `${largest / 1000} k`
  await append(log, measured, largest - measured)
  const atLargest = await append(log, largest - measured, largest)
  const proofsAtLargest = await proofs(log, 3000)
  bench.record(`inclusion proofs at ${label} (16 in flight)`, proofsAtLargest, 'proofs/s', { target: '≥ 20 k/s' })
  bench.record(`log append, last 100 k of ${label}`, atLargest, 'entries/s', { baseline: 'log append (signed checkpoint per 256, sync)', target: '≥ 0.80×' })
  bench.record(`inclusion proofs at ${label} vs 100 k`, proofsAtLargest, 'proofs/s', { baseline: 'inclusion proofs at 100 k (16 in flight)', target: '≥ 0.80×' })
  const { heapTotal, external } = process.memoryUsage()
  const split = await rssSplitMiB()
  bench.record(`peak RSS after ${label} entries`, await peakRssMiB(), 'MiB', {
    target: '< 300 MiB',
    note: `now: V8 heap ${mib(heapTotal)} MiB, external ${mib(external)} MiB` +
      (split === undefined ? '' : `; resident now ${split.anon} MiB anonymous + ${split.file} MiB of mapped files (LevelDB tables)`),
  })
  await log.close()
  await done()
}

function largestSize (): number {
  const asked = process.env.SCITT_BENCH_LOG_ENTRIES
  if (asked !== undefined) {
    const n = Number(asked)
    if (!Number.isSafeInteger(n) || n < 200_000) throw new RangeError('SCITT_BENCH_LOG_ENTRIES must be an integer >= 200000')
    return n
  }
  return process.env.SCITT_BENCH_FULL === '1' ? 10_000_000 : 1_000_000
}

function mib (bytes: number): number {
  return Math.round(bytes / 2 ** 20)
}
