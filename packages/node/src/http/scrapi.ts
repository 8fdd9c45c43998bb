/**
 * SCRAPI (draft-ietf-scitt-scrapi, docs/spec-digest.md §2.2) plus our entry resources:
 *   POST /entries                      register: 201 + receipt, or 303 to /entries/{id} (a duplicate gets the first entry's)
 *   GET  /entries/{id}                 200 receipt, 202 + Retry-After while pending, 404 unknown
 *   GET  /entries/{id}/statement       the transparent statement (receipts in label 394)
 *   GET  /entries/{id}/proof           C2SP tlog-proof text
 * The GETs answer from any log the node holds, its own first, then its mirrors (docs/architecture.md
 * "Data flows"): a mirrored entry's receipt is the origin's own, minted from the origin's seal; the
 * transparent statement carries a receipt from every log holding the entry.
 *   GET  /.well-known/scitt-keys[/{kid}]  COSE_KeySet / COSE_Key (kid as base64url)
 * Registration order: the submitter's bearer token when `http.submitters` lists any (401 without a
 * valid one; submitters.ts), the rate limit (the submitter's, else the client address's), size limit, media type, then (on a verify worker) strict decoding,
 * registration policy and issuer signature, then the log. A rejected request changes no state.
 */
import type { IncomingMessage } from 'node:http'
import {
  MEDIA_TYPE, ScittError, addReceipts, encodeCoseKey, encodeCoseKeySet, equalBytes, formatProofFile, fromBase64Url, isEntryId, isScittError,
  parseCheckpoint, parseNote,
} from '@scitt/core'
import { titled } from '../registration/policy.js'
import { readBody } from './body.js'
import { sendProblem } from './problem.js'
import { send } from './respond.js'
import type { Context, Router } from './router.js'
import type { HeldLog } from '../held-logs.js'
import type { HttpServices } from './services.js'

const STATEMENT_TYPES = new Set<string>([MEDIA_TYPE.cose, MEDIA_TYPE.scittStatement])

function mediaType (req: IncomingMessage): string {
  return (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase()
}

/**
 * The entry's URL: under `http.publicUrl`, else under the address the client's connection reached (the
 * socket's local address, never the request's Host header, which the client chooses).
 */
function entryLocation (services: HttpServices, req: IncomingMessage, entryId: string): string {
  const { publicUrl } = services.config.http
  if (publicUrl !== undefined) return `${publicUrl.endsWith('/') ? publicUrl.slice(0, -1) : publicUrl}/entries/${entryId}`
  const { localAddress, localPort } = req.socket
  const host = localAddress === undefined ? services.config.http.host : localAddress.includes(':') ? `[${localAddress}]` : localAddress
  return `http://${host}:${localPort ?? services.config.http.port}/entries/${entryId}`
}

function checkEntryId (id: string): string {
  if (!isEntryId(id)) throw titled('MALFORMED', 'Invalid locator', 'an entry id is 64 lowercase hex digits')
  return id
}

interface Holding {
  held: HeldLog
  index: number
}

/** The logs holding the entry, own first (`first`: stop at the first). NOT_FOUND when none does. */
async function holdings (services: HttpServices, id: string, first: boolean): Promise<Holding[]> {
  checkEntryId(id)
  const found: Holding[] = []
  for (const held of services.held.all()) {
    const index = await held.log.indexOf(id)
    if (index === undefined) continue
    found.push({ held, index })
    if (first) break
  }
  if (found.length === 0) throw new ScittError('NOT_FOUND', services.registrar.isPending(id) ? `entry ${id} is not integrated yet` : `no entry ${id}`)
  return found
}

/** The receipt, or undefined for a mirrored checkpoint that came without the origin's seal. */
async function receiptOf ({ held, index }: Holding): Promise<Uint8Array | undefined> {
  try {
    return await held.log.receipt(index)
  } catch (err) {
    if (isScittError(err, 'NOT_FOUND')) return undefined
    throw err
  }
}

export function scrapiRoutes (router: Router, services: HttpServices): void {
  const { config, log, pool, registrar, limiter, metrics } = services
  const retryAfter = String(config.limits.retryAfterSeconds)
  // One counter child per outcome: prom-client's label lookup is not free per request.
  const outcomes = new Map<string, { inc: () => void }>()
  const outcome = (name: string): void => {
    let counter = outcomes.get(name)
    if (counter === undefined) outcomes.set(name, counter = metrics.registrations.labels({ outcome: name }))
    counter.inc()
  }

  const sendReceipt = async (ctx: Context, status: number, index: number, entryId: string): Promise<void> => {
    const receipt = await log.receipt(index)
    send(ctx.res, status, receipt, { 'content-type': MEDIA_TYPE.cose, location: entryLocation(services, ctx.req, entryId) })
  }

  router.add('POST', 'entries', /^\/entries$/, async (ctx) => {
    const { req, res } = ctx
    if (services.isStopping()) throw new ScittError('PUSHBACK', 'the node is stopping')
    let wait = 0
    let who = 'client address'
    if (services.submitters.required) {
      const submitter = services.submitters.authenticate(req)
      if (submitter === undefined) {
        outcome('401')
        req.resume()
        sendProblem(res, { status: 401, title: 'Unauthorized', detail: 'registration needs Authorization: Bearer <token> with a submitter\'s token' }, { 'www-authenticate': 'Bearer realm="scitt"', connection: 'close' })
        return
      }
      wait = submitter.take()
      who = 'submitter'
    } else if (limiter !== undefined) {
      wait = limiter.take(services.clients.key(req))
    }
    if (wait > 0) {
      outcome('429')
      req.resume()
      sendProblem(res, { status: 429, title: 'Too Many Requests', detail: `registration rate limit exceeded for this ${who}`, retryAfter: wait }, { connection: 'close' })
      return
    }
    try {
      const body = await readBody(req, config.limits.maxBodyBytes)
      if (!STATEMENT_TYPES.has(mediaType(req))) {
        outcome('415')
        sendProblem(res, { status: 415, title: 'Unsupported Media Type', detail: `Content-Type must be ${MEDIA_TYPE.cose} or ${MEDIA_TYPE.scittStatement}` })
        return
      }
      const checked = await pool.check(body)
      // No separate lookup for duplicates: the log resolves an entry it holds with its first index.
      const appended = registrar.submit(checked.entry, checked.entryId)
      const done = await registrar.within(appended)
      if (done === undefined) {
        outcome('303')
        send(res, 303, '', { location: entryLocation(services, req, checked.entryId), 'retry-after': retryAfter })
        return
      }
      outcome('201')
      await sendReceipt(ctx, 201, done.index, checked.entryId)
    } catch (err) {
      const code = (err as { code?: string }).code
      outcome(code ?? 'error')
      throw err
    }
  })

  router.add('GET', 'entry', /^\/entries\/([^/]+)$/, async (ctx) => {
    const id = checkEntryId(ctx.params[0]!)
    const index = await log.indexOf(id)
    if (index !== undefined) {
      await sendReceipt(ctx, 200, index, id)
    } else if (registrar.isPending(id)) {
      send(ctx.res, 202, '', { 'retry-after': retryAfter, location: entryLocation(services, ctx.req, id) })
    } else {
      // The mirrors, in their configured order (the own log, first of the held logs, was read above).
      let held = false
      for (const mirror of services.held.all().slice(1)) {
        const at = await mirror.log.indexOf(id)
        if (at === undefined) continue
        held = true
        const receipt = await receiptOf({ held: mirror, index: at })
        if (receipt === undefined) continue
        send(ctx.res, 200, receipt, { 'content-type': MEDIA_TYPE.cose, location: entryLocation(services, ctx.req, id) })
        return
      }
      throw new ScittError('NOT_FOUND', held ? `no receipt for entry ${id} here yet` : `no entry ${id}`)
    }
  })

  router.add('GET', 'entry-statement', /^\/entries\/([^/]+)\/statement$/, async (ctx) => {
    const found = await holdings(services, ctx.params[0]!, false)
    const [entry, ...receipts] = await Promise.all([found[0]!.held.log.entry(found[0]!.index), ...found.map(receiptOf)])
    send(ctx.res, 200, addReceipts(entry, receipts.filter((r) => r !== undefined)), { 'content-type': MEDIA_TYPE.scittStatement })
  })

  router.add('GET', 'entry-proof', /^\/entries\/([^/]+)\/proof$/, async (ctx) => {
    const [{ held, index }] = await holdings(services, ctx.params[0]!, true) as [Holding]
    // The latest checkpoint, with the witnesses' cosignatures when the federation has them, so that the
    // proof verifies against a policy quorum.
    const note = held.checkpointNote()!
    const proof = await held.log.inclusionProof(index, parseCheckpoint(parseNote(note).text).size)
    send(ctx.res, 200, formatProofFile({ index, proof, checkpoint: note }), { 'content-type': 'text/plain; charset=utf-8' })
  })

  const keys = encodeCoseKeySet([services.receiptKey.coseKey])
  router.add('GET', 'keys', /^\/\.well-known\/scitt-keys$/, (ctx) => {
    send(ctx.res, 200, keys, { 'content-type': MEDIA_TYPE.cbor })
  })

  router.add('GET', 'key', /^\/\.well-known\/scitt-keys\/([^/]+)$/, (ctx) => {
    let kid: Uint8Array | undefined
    try {
      kid = fromBase64Url(ctx.params[0]!)
    } catch {
      kid = undefined
    }
    const key = services.receiptKey.coseKey
    if (kid === undefined || !equalBytes(kid, key.kid)) {
      sendProblem(ctx.res, { status: 404, title: 'No such key', detail: 'no key with this kid (base64url, no padding)' })
      return
    }
    send(ctx.res, 200, encodeCoseKey(key), { 'content-type': MEDIA_TYPE.cbor })
  })
}
