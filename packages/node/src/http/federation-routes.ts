/**
 * Federation endpoints: `POST /add-checkpoint` (C2SP tlog-witness: the node as a witness, with the
 * spec's statuses and bodies), `GET /evidence` (recorded equivocation evidence, JSON) and
 * `GET /federation` (peers, origins and their latest heads, witnesses, evidence; JSON).
 */
import type { IncomingMessage } from 'node:http'
import { MAX_ADD_CHECKPOINT_REQUEST_SIZE, ScittError } from '@scitt/core'
import type { Witness } from '../witness/witness.js'
import type { WitnessLimits } from '../witness/witness-limits.js'
import { readBody } from './body.js'
import { ERROR_STATUS, sendProblem } from './problem.js'
import { send } from './respond.js'
import type { Handler, Router } from './router.js'

const JSON_TYPE = 'application/json'

/**
 * `POST /add-checkpoint`: admitted by `limits` per client (`client`: its address) first (429 / 503 with Retry-After
 * and problem details, the body left unread), then size-limited before it is read (413 above the
 * limit). An admitted request holds its slot until it is answered or its connection closes.
 */
export function addCheckpointHandler (witness: Witness, limits?: WitnessLimits, client: (req: IncomingMessage) => string = (req) => req.socket.remoteAddress ?? 'unknown'): Handler {
  return async ({ req, res }) => {
    const admission = limits?.admit(client(req))
    if (admission !== undefined && !admission.admitted) {
      const { answer, retryAfter } = admission
      const title = answer.status === 429 ? 'Too Many Requests' : ERROR_STATUS.PUSHBACK.title
      req.resume()
      sendProblem(res, { status: answer.status, title, detail: answer.body.trim(), retryAfter }, { connection: 'close' })
      return
    }
    if (admission !== undefined) res.once('close', admission.release)
    try {
      const body = await readBody(req, MAX_ADD_CHECKPOINT_REQUEST_SIZE)
      const answer = await witness.addCheckpoint(body)
      send(res, answer.status, answer.body, { 'content-type': answer.contentType, 'cache-control': 'no-store' })
    } finally {
      admission?.release()
    }
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
 * Without a witness (`witness` undefined) there is no `POST /add-checkpoint`; `witnessLimits` admits
 * its requests (none: unlimited).
 */
export function federationRoutes (router: Router, services: {
  witness: (() => Witness | undefined) | undefined
  witnessLimits?: WitnessLimits
  /** The key a request's client is limited under (client-address.ts); default: the socket's peer address. */
  client?: (req: IncomingMessage) => string
  federation: () => FederationStatusSource | undefined
}): void {
  const started = <T>(service: T | undefined): T => {
    if (service === undefined) throw new ScittError('PUSHBACK', 'the federation is starting')
    return service
  }
  const { witness } = services
  if (witness !== undefined) {
    router.add('POST', 'add-checkpoint', /^\/add-checkpoint$/, async (ctx) => { await addCheckpointHandler(started(witness()), services.witnessLimits, services.client)(ctx) })
  }
  router.add('GET', 'evidence', /^\/evidence$/, ({ res }) => {
    send(res, 200, JSON.stringify(started(services.federation()).evidenceJson()), { 'content-type': JSON_TYPE, 'cache-control': 'no-store' })
  })
  router.add('GET', 'federation', /^\/federation$/, ({ res }) => {
    send(res, 200, JSON.stringify(started(services.federation()).statusJson()), { 'content-type': JSON_TYPE, 'cache-control': 'no-store' })
  })
}
