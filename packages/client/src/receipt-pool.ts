/**
 * Receipt verification across worker threads, for monitors and auditors that check many receipts at
 * once (Node only). Each worker runs `checkReceipt` (strict decoding, inclusion proof, signature under a
 * trusted key; one verdict per receipt, exactly as in this thread) with node:crypto and cached verifiers.
 * `verify` splits its receipts into batches of at most `batchSize`, dealt round-robin to the workers, each
 * batch one message with the bytes in one transferred buffer. A worker that fails fails its batches with
 * INTERNAL; a closed pool rejects.
 */
import { availableParallelism } from 'node:os'
import { Worker } from 'node:worker_threads'
import { ScittError, assertHash, type CoseKey } from '@scitt/core'
import type { ReceiptBatch, ReceiptBatchResult, ReceiptResult } from './receipt-worker.js'

export type { ReceiptResult } from './receipt-worker.js'

/** A receipt and the leaf hash (entry id) it should prove. */
export interface ReceiptItem {
  receipt: Uint8Array
  leafHash: Uint8Array
}

export interface ReceiptPoolOptions {
  /** Worker threads (default: one per core). */
  threads?: number
  /** Receipts per message to a worker (default 1024). */
  batchSize?: number
}

interface Pending {
  resolve: (results: ReceiptResult[]) => void
  reject: (err: unknown) => void
}

interface Slot {
  worker: Worker
  pending: Map<number, Pending>
}

/** Starts a worker from this package's source (through tsx) or its build output. */
function startWorker (keys: readonly CoseKey[]): Worker {
  const fromSource = import.meta.url.endsWith('.ts')
  const url = new URL(fromSource ? './receipt-worker.ts' : './receipt-worker.js', import.meta.url)
  const workerData = { keys: keys.map((k) => ({ ...k })) }
  if (!fromSource) return new Worker(url, { workerData })
  // Loaders registered with --import do not reach worker threads on Node 20: register tsx inside.
  const code = `import('tsx/esm/api').then((api) => { api.register(); return import(${JSON.stringify(url.href)}) })`
  return new Worker(code, { eval: true, workerData })
}

export class ReceiptPool {
  readonly #slots: Slot[] = []
  readonly #batchSize: number
  #nextBatch = 0
  #nextSlot = 0
  #closed = false

  /** Workers trusting `keys` (the nodes' receipt keys, matched by kid or thumbprint). */
  constructor (keys: readonly CoseKey[], options: ReceiptPoolOptions = {}) {
    const threads = options.threads ?? availableParallelism()
    this.#batchSize = options.batchSize ?? 1024
    if (!Number.isSafeInteger(threads) || threads < 1) throw new RangeError('threads must be a positive integer')
    if (!Number.isSafeInteger(this.#batchSize) || this.#batchSize < 1) throw new RangeError('batchSize must be a positive integer')
    for (let i = 0; i < threads; i++) this.#slots.push(this.#spawn(keys))
  }

  get size (): number {
    return this.#slots.length
  }

  /** One `checkReceipt` result per item, in order (check names are `receipt`). */
  async verify (items: readonly ReceiptItem[]): Promise<ReceiptResult[]> {
    if (this.#closed) throw new ScittError('INTERNAL', 'the receipt pool is closed')
    items.forEach((item, i) => assertHash(item.leafHash, `items[${i}].leafHash`))
    const batches: Array<Promise<ReceiptResult[]>> = []
    for (let start = 0; start < items.length; start += this.#batchSize) {
      batches.push(this.#send(items.slice(start, start + this.#batchSize)))
    }
    return (await Promise.all(batches)).flat()
  }

  async close (): Promise<void> {
    this.#closed = true
    await Promise.all(this.#slots.map(async (slot) => slot.worker.terminate()))
  }

  /** Sends one batch to the next worker: leaf hash and receipt of each item, in one transferred buffer. */
  async #send (items: readonly ReceiptItem[]): Promise<ReceiptResult[]> {
    let total = 0
    const ends = items.map((item) => (total += 32 + item.receipt.length))
    const bytes = new Uint8Array(total)
    items.forEach((item, i) => {
      const start = ends[i]! - 32 - item.receipt.length
      bytes.set(item.leafHash, start)
      bytes.set(item.receipt, start + 32)
    })
    const slot = this.#slots[this.#nextSlot++ % this.#slots.length]!
    const batch = this.#nextBatch++
    return new Promise((resolve, reject) => {
      slot.pending.set(batch, { resolve, reject })
      const message: ReceiptBatch = { batch, bytes: bytes.buffer, ends }
      slot.worker.postMessage(message, [bytes.buffer])
    })
  }

  #spawn (keys: readonly CoseKey[]): Slot {
    const slot: Slot = { worker: startWorker(keys), pending: new Map() }
    slot.worker.on('message', ({ batch, results }: ReceiptBatchResult) => {
      const pending = slot.pending.get(batch)
      slot.pending.delete(batch)
      pending?.resolve(results)
    })
    const fail = (err: unknown): void => {
      for (const pending of slot.pending.values()) pending.reject(new ScittError('INTERNAL', 'a receipt worker failed', { cause: err }))
      slot.pending.clear()
    }
    slot.worker.on('error', fail)
    slot.worker.on('exit', (code) => { fail(new Error(`receipt worker exited with code ${code}`)) })
    return slot
  }
}
