/**
 * A verify worker (node:worker_threads): runs `checkStatement` for the jobs the pool sends, with its
 * own copy of the registration policy and its own cache of node:crypto verifiers.
 * Protocol: in `{ id, body }`; out `{ id, ok: true, entry, entryId, iss }` or `{ id, ok: false, code, message, title? }`.
 */
import { parentPort, workerData } from 'node:worker_threads'
import { isScittError } from '@scitt/core'
import type { RegistrationConfig } from '../config.js'
import { checkStatement, VerifierCache } from './check.js'
import { RegistrationPolicy } from './policy.js'

export interface VerifyJob { id: number, body: Uint8Array }
export type VerifyResult =
  | { id: number, ok: true, entry: Uint8Array, entryId: string, iss: string }
  | { id: number, ok: false, code: string, message: string, title?: string }

const policy = new RegistrationPolicy((workerData as { registration: RegistrationConfig }).registration)
const verifiers = new VerifierCache()
const port = parentPort!

port.on('message', (job: VerifyJob) => {
  let result: VerifyResult
  try {
    const checked = checkStatement(job.body, policy, verifiers)
    result = { id: job.id, ok: true, ...checked }
    port.postMessage(result, [checked.entry.buffer as ArrayBuffer])
    return
  } catch (err) {
    if (isScittError(err)) {
      const title = err.details?.title
      result = { id: job.id, ok: false, code: err.code, message: err.message, ...(typeof title === 'string' ? { title } : {}) }
    } else {
      result = { id: job.id, ok: false, code: 'INTERNAL', message: `statement check failed: ${(err as Error).message}` }
    }
  }
  port.postMessage(result)
})
