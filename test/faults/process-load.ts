/**
 * Registration traffic against node processes and the ledger of what they acknowledged:
 * concurrent clients POST pre-signed statements; a 201 receipt, or a receipt fetched with GET after a
 * 303, is an acknowledgement, checked at once with the node's served receipt key. After a fault,
 * `verifyServed` checks that every acknowledged entry is still served with a receipt that verifies, at
 * the index first acknowledged.
 */
import assert from 'node:assert/strict'
import { request } from 'node:http'
import {
  decodeCoseKeySet, entryBytes, entryId, equalBytes, verifyReceipt, type CoseKey, type ReceiptVerifier,
} from '@scitt/core'
import { nodeSignatures } from '@scitt/node-crypto'
import { statement, type Issuer } from '../../packages/node/test/helpers.js'

export interface Reply {
  status: number
  headers: Record<string, string | string[] | undefined>
  body: Uint8Array
  /** Milliseconds from sending the request to the end of the answer. */
  ms: number
}

/**
 * One HTTP request to a node, with a deadline (the socket is destroyed after `timeoutMs`) and an
 * optional loopback source address (the rate limit counts per client address).
 */
export function call (url: string, o: { method?: string, body?: Uint8Array, headers?: Record<string, string>, localAddress?: string, timeoutMs?: number } = {}): Promise<Reply> {
  const started = performance.now()
  return new Promise((resolve, reject) => {
    const req = request(url, {
      method: o.method ?? 'GET',
      headers: o.headers ?? {},
      timeout: o.timeoutMs ?? 10_000,
      ...(o.localAddress === undefined ? {} : { localAddress: o.localAddress }),
    }, (res) => {
      const chunks: Buffer[] = []
      res.on('data', (c: Buffer) => chunks.push(c))
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: new Uint8Array(Buffer.concat(chunks)), ms: performance.now() - started }))
      res.on('error', reject)
    })
    req.on('timeout', () => req.destroy(new Error(`no answer from ${url} within ${o.timeoutMs ?? 10_000} ms`)))
    req.on('error', reject)
    req.end(o.body)
  })
}

/** `n` statements signed in advance (the load is then only the node's work). */
export function presign (issuer: Issuer, n: number): Uint8Array[] {
  return Array.from({ length: n }, () => statement(issuer))
}

/** The receipt keys a node serves at /.well-known/scitt-keys, as a lookup by kid. */
export async function servedReceiptKeys (url: string): Promise<ReceiptVerifier> {
  const res = await call(`${url}/.well-known/scitt-keys`)
  assert.equal(res.status, 200)
  const keys: CoseKey[] = decodeCoseKeySet(res.body)
  assert.ok(keys.length > 0, 'the node serves a receipt key')
  return (kid) => {
    const key = keys.find((k) => kid !== undefined && k.kid !== undefined && equalBytes(k.kid, kid))
    return key === undefined ? undefined : nodeSignatures.verifier(key.algorithm, key.publicKey)
  }
}

export interface Ack {
  entry: Uint8Array
  index: number
  receipt: Uint8Array
}

export interface ServedCheck {
  checked: number
  /** Receipts served byte for byte as first acknowledged. */
  sameBytes: number
}

/** What one node acknowledged: entries by id, and entries answered 303 whose receipt is not yet seen. */
export class Ledger {
  readonly acked = new Map<string, Ack>()
  readonly pending = new Map<string, Uint8Array>()
  /** Count of each answer to POST /entries (status, or the error code of a failed request). */
  readonly statuses = new Map<string, number>()
  /** Latency of every POST answered 201. */
  readonly createdMs: number[] = []
  /** Latency of every POST refused with 429 or 503. */
  readonly refusedMs: number[] = []
  /** 429 and 503 answers without a valid Retry-After. */
  withoutRetryAfter = 0
  /** Entries answered 303 and then 404: lost before integration, never acknowledged. */
  lost = 0
  readonly #keys: ReceiptVerifier

  constructor (keys: ReceiptVerifier) {
    this.#keys = keys
  }

  count (what: string): void {
    this.statuses.set(what, (this.statuses.get(what) ?? 0) + 1)
  }

  /** Records an acknowledgement; its receipt must verify now, and an entry is acknowledged at one index only. */
  ack (id: string, entry: Uint8Array, receipt: Uint8Array): void {
    const v = verifyReceipt(receipt, { entry }, this.#keys)
    const known = this.acked.get(id)
    if (known !== undefined) assert.equal(v.leafIndex, known.index, `entry ${id} was acknowledged at ${known.index} and ${v.leafIndex}`)
    else this.acked.set(id, { entry, index: v.leafIndex, receipt })
    this.pending.delete(id)
  }

  /** POSTs one statement and records the answer (201: ack; 303: pending; 429/503: refused). */
  async register (url: string, body: Uint8Array, o: { localAddress?: string, timeoutMs?: number } = {}): Promise<Reply | undefined> {
    const entry = entryBytes(body)
    const id = entryId(entry)
    let res: Reply
    try {
      res = await call(`${url}/entries`, { method: 'POST', body, headers: { 'content-type': 'application/cose' }, ...o })
    } catch (err) {
      this.count((err as NodeJS.ErrnoException).code ?? 'error')
      return undefined
    }
    this.count(String(res.status))
    if (res.status === 201) {
      this.createdMs.push(res.ms)
      this.ack(id, entry, res.body)
    } else if (res.status === 303) {
      this.pending.set(id, entry)
    } else if (res.status === 429 || res.status === 503) {
      this.refusedMs.push(res.ms)
      if (!/^[1-9][0-9]*$/.test(String(res.headers['retry-after']))) this.withoutRetryAfter++
    }
    return res
  }

  /** Asks for every pending entry once: 200 acknowledges it, 404 drops it (lost before integration; never acknowledged). */
  async poll (url: string): Promise<void> {
    for (const [id, entry] of [...this.pending]) {
      let res: Reply
      try {
        res = await call(`${url}/entries/${id}`, { timeoutMs: 5000 })
      } catch {
        return
      }
      if (res.status === 200) this.ack(id, entry, res.body)
      else if (res.status === 404) {
        this.pending.delete(id)
        this.lost++
      }
      else assert.equal(res.status, 202, `GET /entries/${id} answered ${res.status}`)
    }
  }

  /**
   * Every acknowledged entry is served (200) with a receipt that verifies against the node's served
   * keys, for the same index; the checkpoint sizes and roots the receipts show are passed to `onRoot`.
   */
  async verifyServed (url: string, onRoot: (size: number, root: Uint8Array) => void = () => {}): Promise<ServedCheck> {
    const keys = await servedReceiptKeys(url)
    const list = [...this.acked]
    let sameBytes = 0
    let next = 0
    const worker = async (): Promise<void> => {
      while (next < list.length) {
        const [id, ack] = list[next++]!
        const res = await call(`${url}/entries/${id}`)
        assert.equal(res.status, 200, `acknowledged entry ${id} (index ${ack.index}) is not served: ${res.status}`)
        const v = verifyReceipt(res.body, { entry: ack.entry }, keys)
        assert.equal(v.leafIndex, ack.index, `entry ${id} moved from index ${ack.index} to ${v.leafIndex}`)
        onRoot(v.treeSize, v.rootHash)
        if (equalBytes(res.body, ack.receipt)) sameBytes++
      }
    }
    await Promise.all(Array.from({ length: 8 }, worker))
    return { checked: list.length, sameBytes }
  }
}

export interface LoadOptions {
  url: string
  ledger: Ledger
  /** The statements to send, taken in order until `stop()` says so or they run out. */
  statements: Uint8Array[]
  concurrency: number
  stop: () => boolean
  /** Source address of client `i` (default: the kernel's choice, 127.0.0.1). */
  localAddress?: (client: number) => string
  timeoutMs?: number
  /** Each client ends at its first failed request (the node was killed). */
  endOnError?: boolean
}

/** Concurrent registration clients; resolves when every client has ended. */
export async function load (o: LoadOptions): Promise<void> {
  const client = async (i: number): Promise<void> => {
    while (!o.stop()) {
      const body = o.statements.shift()
      if (body === undefined) return
      const res = await o.ledger.register(o.url, body, {
        ...(o.localAddress === undefined ? {} : { localAddress: o.localAddress(i) }),
        ...(o.timeoutMs === undefined ? {} : { timeoutMs: o.timeoutMs }),
      })
      if (res === undefined && o.endOnError === true) return
    }
  }
  await Promise.all(Array.from({ length: o.concurrency }, async (_, i) => { await client(i) }))
}

/** Nearest-rank percentile (p in 0..100) of a list of numbers; 0 for an empty list. */
export function percentile (values: readonly number[], p: number): number {
  if (values.length === 0) return 0
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!
}
