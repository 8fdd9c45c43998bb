/**
 * A verify worker (node:worker_threads): runs `checkStatement` for the statements the pool sends, with
 * its own copy of the registration policy and its own cache of node:crypto verifiers.
 * Protocol, one message per batch each way:
 *   in  `{ batch, bodies, ends }`: the statements concatenated in one transferred ArrayBuffer, statement
 *       i being bytes `ends[i-1] ?? 0` to `ends[i]`;
 *   out `{ batch, outcomes }`, one outcome per statement, in order: `{ ok: true, entryId, iss, entry? }`
 *       (`entry` only when it differs from the statement as posted, i.e. it had unprotected headers)
 *       or `{ ok: false, code, message, title? }`.
 */
import { parentPort, workerData } from 'node:worker_threads'
import { equalBytes, isScittError } from '@scitt/core'
import type { RegistrationConfig } from '../config.js'
import { useNodeSha256 } from '@scitt/node-crypto'
import { checkStatement, VerifierCache } from './check.js'
import { RegistrationPolicy } from './policy.js'

export interface VerifyBatch { batch: number, bodies: ArrayBuffer, ends: number[] }
export type VerifyOutcome =
  | { ok: true, entryId: string, iss: string, entry?: Uint8Array }
  | { ok: false, code: string, message: string, title?: string }
export interface VerifyBatchResult { batch: number, outcomes: VerifyOutcome[] }

useNodeSha256() // a worker has its own copy of core: entry ids hash with node:crypto here too
const policy = new RegistrationPolicy((workerData as { registration: RegistrationConfig }).registration)
const verifiers = new VerifierCache()
const port = parentPort!

function check (body: Uint8Array): VerifyOutcome {
  try {
    const { entry, entryId, iss } = checkStatement(body, policy, verifiers)
    return equalBytes(entry, body) ? { ok: true, entryId, iss } : { ok: true, entryId, iss, entry }
  } catch (err) {
    if (!isScittError(err)) return { ok: false, code: 'INTERNAL', message: `statement check failed: ${(err as Error).message}` }
    const title = err.details?.title
    return { ok: false, code: err.code, message: err.message, ...(typeof title === 'string' ? { title } : {}) }
  }
}

port.on('message', ({ batch, bodies, ends }: VerifyBatch) => {
  const outcomes = ends.map((end, i) => {
    const start = ends[i - 1] ?? 0
    return check(new Uint8Array(bodies, start, end - start))
  })
  const result: VerifyBatchResult = { batch, outcomes }
  port.postMessage(result)
})
