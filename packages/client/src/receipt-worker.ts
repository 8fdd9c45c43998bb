/**
 * A receipt worker (node:worker_threads) of `ReceiptPool`: runs `checkReceipt` with node:crypto and its
 * own cache of verifiers for the trusted keys it was started with (`workerData.keys`).
 * Protocol, one message per batch each way:
 *   in  `{ batch, bytes, ends }`: the items concatenated in one transferred ArrayBuffer, item i being
 *       bytes `ends[i-1] ?? 0` to `ends[i]`: the 32-byte leaf hash, then the receipt;
 *   out `{ batch, results }`, one `checkReceipt` result per item, in order.
 */
import { parentPort, workerData } from 'node:worker_threads'
import type { CoseKey, VerifiedReceipt } from '@scitt/core'
import { nodeSignatures, useNodeSha256 } from '@scitt/node-crypto'
import { TrustedKeys } from './keys.js'
import { checkReceipt, type Check } from './verify.js'

export interface ReceiptBatch { batch: number, bytes: ArrayBuffer, ends: number[] }
export interface ReceiptResult { check: Check, verified?: VerifiedReceipt }
export interface ReceiptBatchResult { batch: number, results: ReceiptResult[] }

useNodeSha256() // a worker has its own copy of core: proofs hash with node:crypto here too
const trusted = new TrustedKeys((workerData as { keys: CoseKey[] }).keys, nodeSignatures)
const port = parentPort!

port.on('message', ({ batch, bytes, ends }: ReceiptBatch) => {
  const results = ends.map((end, i) => {
    const start = ends[i - 1] ?? 0
    return checkReceipt('receipt', new Uint8Array(bytes, start + 32, end - start - 32), new Uint8Array(bytes, start, 32), trusted)
  })
  const result: ReceiptBatchResult = { batch, results }
  port.postMessage(result)
})
