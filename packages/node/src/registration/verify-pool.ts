/**
 * The issuer-signature verify pool (architecture.md "Performance design"): worker threads, one per
 * core by default, each checking statements (decode, policy, node:crypto signature with cached
 * KeyObjects). Jobs go to the least busy worker; more than `maxQueue` jobs in flight is PUSHBACK.
 * A worker that dies fails its jobs with INTERNAL and is replaced.
 */
import { availableParallelism } from 'node:os'
import { Worker } from 'node:worker_threads'
import { ScittError, type ErrorCode } from '@scitt/core'
import type { RegistrationConfig } from '../config.js'
import type { CheckedStatement } from './check.js'
import type { VerifyJob, VerifyResult } from './verify-worker.js'

interface Job {
  resolve: (value: CheckedStatement) => void
  reject: (err: unknown) => void
}

interface Slot {
  worker: Worker
  jobs: Map<number, Job>
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
  #nextId = 0
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
    await Promise.all(this.#slots.map((slot) => this.#send(slot, new Uint8Array(0)).catch((err: unknown) => {
      if (err instanceof ScittError && err.code === 'INTERNAL') throw err
    })))
  }

  /** Checks a statement on a worker; PUSHBACK when too many are in flight. */
  check (body: Uint8Array): Promise<CheckedStatement> {
    if (this.#closed) return Promise.reject(new ScittError('PUSHBACK', 'the node is stopping'))
    if (this.#inFlight >= this.#options.maxQueue) {
      return Promise.reject(new ScittError('PUSHBACK', `${this.#inFlight} statements are waiting for verification; try again later`))
    }
    let best = this.#slots[0]
    if (best === undefined) return Promise.reject(new ScittError('INTERNAL', 'no verify worker is running'))
    for (const slot of this.#slots) if (slot.jobs.size < best.jobs.size) best = slot
    return this.#send(best, body)
  }

  async close (): Promise<void> {
    this.#closed = true
    await Promise.all(this.#slots.map((slot) => slot.worker.terminate()))
  }

  #send (slot: Slot, body: Uint8Array): Promise<CheckedStatement> {
    const id = this.#nextId++
    const copy = new Uint8Array(body) // its own buffer, transferred to the worker
    this.#inFlight++
    return new Promise<CheckedStatement>((resolve, reject) => {
      slot.jobs.set(id, { resolve, reject })
      const job: VerifyJob = { id, body: copy }
      slot.worker.postMessage(job, [copy.buffer])
    }).finally(() => { this.#inFlight-- })
  }

  #spawn (): Slot {
    const slot: Slot = { worker: startWorker(this.#options.registration), jobs: new Map() }
    const born = performance.now()
    slot.worker.on('message', (result: VerifyResult) => {
      const job = slot.jobs.get(result.id)
      if (job === undefined) return
      slot.jobs.delete(result.id)
      if (result.ok) {
        job.resolve({ entry: result.entry, entryId: result.entryId, iss: result.iss })
      } else {
        job.reject(new ScittError(result.code as ErrorCode, result.message, result.title === undefined ? {} : { details: { title: result.title } }))
      }
    })
    const fail = (err: unknown): void => {
      for (const job of slot.jobs.values()) job.reject(new ScittError('INTERNAL', 'a verify worker failed', { cause: err }))
      slot.jobs.clear()
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
