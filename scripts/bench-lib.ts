/**
 * The benchmark harness behind `npm run bench`. Each suite measures the project's operations beside the
 * raw primitive they stand on, in the same run, and records the ratio: machines are noisy, ratios less so.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

export interface BenchRow {
  suite: string
  name: string
  value: number
  unit: string
  /** Name of the row this one is compared with (same suite unless it contains a '/'). */
  baseline?: string
  ratio?: number
  target?: string
  note?: string
}

export interface RateOptions {
  /** Operations done per call of fn (for batched calls). */
  opsPerCall?: number
  /** Keep calling for at least this long (after one warm-up call). */
  minMs?: number
  /** Calls in flight at once (for async fn). */
  concurrency?: number
}

export class Bench {
  readonly rows: BenchRow[] = []
  suite = ''

  /** Calls fn repeatedly for minMs and records operations per second. */
  async rate (name: string, fn: () => unknown, options: RateOptions & Omit<BenchRow, 'suite' | 'name' | 'value' | 'unit' | 'ratio'> = {}): Promise<number> {
    const { opsPerCall = 1, minMs = 1000, concurrency = 1, ...meta } = options
    await fn()
    let calls = 0
    const start = performance.now()
    const deadline = start + minMs
    const worker = async (): Promise<void> => {
      while (performance.now() < deadline) {
        await fn()
        calls++
      }
    }
    await Promise.all(Array.from({ length: concurrency }, worker))
    const value = (calls * opsPerCall) / ((performance.now() - start) / 1000)
    this.record(name, value, 'ops/s', meta)
    return value
  }

  /** Same as rate, for synchronous fn without the per-call await. */
  rateSync (name: string, fn: () => unknown, options: Omit<RateOptions, 'concurrency'> & Omit<BenchRow, 'suite' | 'name' | 'value' | 'unit' | 'ratio'> = {}): number {
    const { opsPerCall = 1, minMs = 1000, ...meta } = options
    fn()
    let calls = 0
    const start = performance.now()
    const deadline = start + minMs
    while (performance.now() < deadline) {
      for (let i = 0; i < 16; i++) fn()
      calls += 16
    }
    const value = (calls * opsPerCall) / ((performance.now() - start) / 1000)
    this.record(name, value, 'ops/s', meta)
    return value
  }

  /** Records a measured figure; with `baseline`, also its ratio to that row's value. */
  record (name: string, value: number, unit: string, meta: Omit<BenchRow, 'suite' | 'name' | 'value' | 'unit' | 'ratio'> = {}): void {
    const row: BenchRow = { suite: this.suite, name, value, unit, ...meta }
    if (meta.baseline !== undefined) {
      const [suite, base] = meta.baseline.includes('/') ? meta.baseline.split('/', 2) as [string, string] : [this.suite, meta.baseline]
      const ref = this.rows.find((r) => r.suite === suite && r.name === base)
      if (ref === undefined) throw new Error(`baseline row ${meta.baseline} not measured yet`)
      row.ratio = value / ref.value
    }
    this.rows.push(row)
    console.log(formatRow(row))
  }
}

export function formatRow (row: BenchRow): string {
  const value = row.value >= 100 ? Math.round(row.value).toLocaleString('en-US') : row.value.toPrecision(3)
  const ratio = row.ratio === undefined ? '' : `${row.ratio >= 10 ? row.ratio.toFixed(1) : row.ratio.toFixed(3)}× ${row.baseline}`
  return [
    row.suite.padEnd(8), row.name.padEnd(52), `${value} ${row.unit}`.padStart(20), ratio.padEnd(44),
    row.target ?? '', row.note ?? '',
  ].join('  ').trimEnd()
}

/** Peak resident set size of this process so far, in MiB (Linux: VmHWM). */
export async function peakRssMiB (): Promise<number> {
  const { readFile } = await import('node:fs/promises')
  const status = await readFile('/proc/self/status', 'utf8').catch(() => '')
  const m = /VmHWM:\s+(\d+) kB/.exec(status)
  return m === null ? process.memoryUsage().rss / 2 ** 20 : Number(m[1]) / 1024
}

/** The process's resident memory now, in MiB, by kind (Linux): anonymous (heaps) and file-backed (mapped files such as LevelDB tables). */
export async function rssSplitMiB (): Promise<{ anon: number, file: number } | undefined> {
  const { readFile } = await import('node:fs/promises')
  const status = await readFile('/proc/self/status', 'utf8').catch(() => '')
  const anon = /RssAnon:\s+(\d+) kB/.exec(status)
  const file = /RssFile:\s+(\d+) kB/.exec(status)
  return anon === null || file === null ? undefined : { anon: Math.round(Number(anon[1]) / 1024), file: Math.round(Number(file[1]) / 1024) }
}

/** Nearest-rank percentile (p in 0..100] of ascending `sorted`: the smallest value with at least p % of the values at or below it. */
export function percentile (sorted: readonly number[], p: number): number {
  return sorted[Math.max(0, Math.ceil((p / 100) * sorted.length) - 1)] ?? NaN
}

let logFilesRoot: string | undefined
let logFilesMade = 0

/** Files for a log a bench opens in memory or by itself: under one temporary directory, removed when the process exits. */
export function benchLogFiles (): { dir: string, nodesDir: string } {
  if (logFilesRoot === undefined) {
    const root = mkdtempSync(join(tmpdir(), 'scitt-bench-files-'))
    process.once('exit', () => { rmSync(root, { recursive: true, force: true }) })
    logFilesRoot = root
  }
  const dir = join(logFilesRoot, String(logFilesMade++))
  return { dir: join(dir, 'log'), nodesDir: join(dir, 'nodes') }
}
