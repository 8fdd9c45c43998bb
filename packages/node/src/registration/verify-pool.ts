/**
 * The issuer-signature verify pool (docs/architecture.md "The other parts"): worker threads, one per
 * core by default, each checking statements (decode, policy, node:crypto signature with cached
 * KeyObjects). Statements submitted in the same turn of the event loop travel together: at the end of
 * the turn (setImmediate) they are shared out to the least busy workers and each worker gets one
 * message with their bytes in one transferred buffer, and answers the batch with one message. More than
 * `maxQueue` statements in flight is PUSHBACK. A worker that dies fails its jobs with INTERNAL and is
 * replaced.
 */
import { availableParallelism } from 'node:os'
import { Worker } from 'node:worker_threads'
import { ScittError, type ErrorCode } from '@scitt/core'
import type { RegistrationConfig } from '../config.js'
import type { CheckedStatement } from './check.js'
import type { VerifyBatch, VerifyBatchResult } from './verify-worker.js'

interface Job {
  body: Uint8Array
  resolve: (value: CheckedStatement) => void
  reject: (err: unknown) => void
}

interface Slot {
  worker: Worker
  /** Batches sent and not answered, by batch number. */
  batches: Map<number, Job[]>
  /** Statements in those batches. */
  load: number
}

export interface VerifyPoolOptions {
  registration: RegistrationConfig
  /** Worker threads; 0 = one per core. */
  threads: number
  /** Jobs in flight (queued or running) above which `check` fails with PUSHBACK. */
  maxQueue: number
}

/** Starts a worker from this package's source (through tsx) or its build output. */
function startWorker (registration: RegistrationConfig): Worker {
  const fromSource = import.meta.url.endsWith('.ts')
  const url = new URL(fromSource ? './verify-worker.ts' : './verify-worker.js', import.meta.url)
  if (!fromSource) return new Worker(url, { workerData: { registration } })
  // Loaders registered with --import do not reach worker threads on Node 20: register tsx inside.
  const code = `import('tsx/esm/api').then((api) => { api.register(); return import(${JSON.stringify(url.href)}) })`
  return new Worker(code, { eval: true, workerData: { registration } })
}

export class VerifyPool {
  readonly #options: VerifyPoolOptions
  readonly #slots: Slot[] = []
  /** Jobs submitted in this turn of the event loop, sent at its end. */
  #queued: Job[] = []
  #flush: ReturnType<typeof setImmediate> | undefined
  #nextBatch = 0
  #inFlight = 0
  #closed = false

  constructor (options: VerifyPoolOptions) {
    this.#options = options
    const threads = options.threads === 0 ? availableParallelism() : options.threads
    for (let i = 0; i < threads; i++) this.#slots.push(this.#spawn())
  }

  get size (): number {
    return this.#slots.length
  }

  /** Jobs queued or running. */
  get inFlight (): number {
    return this.#inFlight
  }

  /** Resolves once every worker has loaded (start-up readiness). */
  async ready (): Promise<void> {
    // An empty body fails decoding in the worker: a round trip proves the worker runs.
    await Promise.all(this.#slots.map((slot) => new Promise<CheckedStatement>((resolve, reject) => {
      this.#inFlight++
      this.#send(slot, [{ body: new Uint8Array(0), resolve, reject }])
    }).catch((err: unknown) => {
      if (err instanceof ScittError && err.code === 'INTERNAL') throw err
    })))
  }

  /** Checks a statement on a worker; PUSHBACK when too many are in flight. */
  check (body: Uint8Array): Promise<CheckedStatement> {
    if (this.#closed) return Promise.reject(new ScittError('PUSHBACK', 'the node is stopping'))
    if (this.#inFlight >= this.#options.maxQueue) {
      return Promise.reject(new ScittError('PUSHBACK', `${this.#inFlight} statements are waiting for verification; try again later`))
    }
    if (this.#slots.length === 0) return Promise.reject(new ScittError('INTERNAL', 'no verify worker is running'))
    this.#inFlight++
    return new Promise<CheckedStatement>((resolve, reject) => {
      this.#queued.push({ body, resolve, reject })
      this.#flush ??= setImmediate(this.#share)
    })
  }

  async close (): Promise<void> {
    this.#closed = true
    if (this.#flush !== undefined) {
      clearImmediate(this.#flush)
      this.#share()
    }
    await Promise.all(this.#slots.map((slot) => slot.worker.terminate()))
  }

  /** Shares the queued jobs out, each to the least loaded worker at that point, one batch per worker. */
  readonly #share = (): void => {
    this.#flush = undefined
    const jobs = this.#queued
    this.#queued = []
    if (this.#slots.length === 0) {
      for (const job of jobs) this.#reject(job, new ScittError('INTERNAL', 'no verify worker is running'))
      return
    }
    const shares = new Map<Slot, Job[]>()
    const load = this.#slots.map((slot) => slot.load)
    for (const job of jobs) {
      let best = 0
      for (let i = 1; i < load.length; i++) if (load[i]! < load[best]!) best = i
      load[best]!++
      const slot = this.#slots[best]!
      const share = shares.get(slot)
      if (share === undefined) shares.set(slot, [job])
      else share.push(job)
    }
    for (const [slot, share] of shares) this.#send(slot, share)
  }

  #reject (job: Job, err: ScittError): void {
    this.#inFlight--
    job.reject(err)
  }

  /** Sends one batch: the bodies copied into one buffer, transferred to the worker. */
  #send (slot: Slot, jobs: Job[]): void {
    let total = 0
    const ends = jobs.map((job) => (total += job.body.length))
    const bytes = new Uint8Array(total)
    jobs.forEach((job, i) => bytes.set(job.body, ends[i]! - job.body.length))
    const batch = this.#nextBatch++
    slot.batches.set(batch, jobs)
    slot.load += jobs.length
    const message: VerifyBatch = { batch, bodies: bytes.buffer, ends }
    slot.worker.postMessage(message, [bytes.buffer])
  }

  #spawn (): Slot {
    const slot: Slot = { worker: startWorker(this.#options.registration), batches: new Map(), load: 0 }
    const born = performance.now()
    slot.worker.on('message', ({ batch, outcomes }: VerifyBatchResult) => {
      const jobs = slot.batches.get(batch)
      if (jobs === undefined) return
      slot.batches.delete(batch)
      slot.load -= jobs.length
      jobs.forEach((job, i) => {
        const outcome = outcomes[i]
        if (outcome === undefined) {
          this.#reject(job, new ScittError('INTERNAL', 'a verify worker answered a batch without this statement'))
        } else if (outcome.ok) {
          this.#inFlight--
          job.resolve({ entry: outcome.entry ?? job.body, entryId: outcome.entryId, iss: outcome.iss })
        } else {
          this.#reject(job, new ScittError(outcome.code as ErrorCode, outcome.message, outcome.title === undefined ? {} : { details: { title: outcome.title } }))
        }
      })
    })
    const fail = (err: unknown): void => {
      for (const jobs of slot.batches.values()) for (const job of jobs) this.#reject(job, new ScittError('INTERNAL', 'a verify worker failed', { cause: err }))
      slot.batches.clear()
      slot.load = 0
    }
    slot.worker.on('error', fail)
    slot.worker.on('exit', (code) => {
      fail(new Error(`worker exited with code ${code}`))
      const i = this.#slots.indexOf(slot)
      if (this.#closed || i < 0) return
      // Replace a worker that ran for a while; one that dies at once would only die again.
      if (performance.now() - born >= 1000) this.#slots[i] = this.#spawn()
      else this.#slots.splice(i, 1)
    })
    return slot
  }
}
