/**
 * Federation endpoints: `POST /add-checkpoint` (C2SP tlog-witness: the node as a witness, with the
 * spec's statuses and bodies), `GET /evidence` (recorded equivocation evidence, JSON) and
 * `GET /federation` (peers, origins and their latest heads, witnesses, evidence; JSON).
 */
import { MAX_ADD_CHECKPOINT_REQUEST_SIZE, ScittError } from '@scitt/core'
import type { Witness } from '../witness/witness.js'
import { readBody } from './body.js'
import { send } from './respond.js'
import type { Handler, Router } from './router.js'

const JSON_TYPE = 'application/json'

/** `POST /add-checkpoint`: the body is size-limited before it is read (413 above the limit). */
export function addCheckpointHandler (witness: Witness): Handler {
  return async ({ req, res }) => {
    const body = await readBody(req, MAX_ADD_CHECKPOINT_REQUEST_SIZE)
    const answer = await witness.addCheckpoint(body)
    send(res, answer.status, answer.body, { 'content-type': answer.contentType, 'cache-control': 'no-store' })
  }
}

/** What the status endpoints show; the federation service provides both. */
export interface FederationStatusSource {
  evidenceJson: () => unknown
  statusJson: () => unknown
}

/**
 * Registers the federation routes. The services are looked up per request: the HTTP server listens
 * before the federation has started (its URL goes into the descriptor), and answers 503 until then.
 * Without a witness (`witness` undefined) there is no `POST /add-checkpoint`.
 */
export function federationRoutes (router: Router, services: { witness: (() => Witness | undefined) | undefined, federation: () => FederationStatusSource | undefined }): void {
  const started = <T>(service: T | undefined): T => {
    if (service === undefined) throw new ScittError('PUSHBACK', 'the federation is starting')
    return service
  }
  const { witness } = services
  if (witness !== undefined) {
    router.add('POST', 'add-checkpoint', /^\/add-checkpoint$/, async (ctx) => { await addCheckpointHandler(started(witness()))(ctx) })
  }
  router.add('GET', 'evidence', /^\/evidence$/, ({ res }) => {
    send(res, 200, JSON.stringify(started(services.federation()).evidenceJson()), { 'content-type': JSON_TYPE, 'cache-control': 'no-store' })
  })
  router.add('GET', 'federation', /^\/federation$/, ({ res }) => {
    send(res, 200, JSON.stringify(started(services.federation()).statusJson()), { 'content-type': JSON_TYPE, 'cache-control': 'no-store' })
  })
}
