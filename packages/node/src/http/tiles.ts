/**
 * C2SP tlog-tiles read API (docs/spec-digest.md §6.5) of the node's own log, and of every log it holds (its
 * own and its mirrors) under `/logs/<hex(SHA-256(origin))>`:
 *   GET [/logs/<hex>]/checkpoint                 text/plain, not cacheable; with the witnesses'
 *                                                cosignatures gathered by the federation, when it has any
 *   GET [/logs/<hex>]/tile/<L>/<N>[.p/<W>]       hash tiles, application/octet-stream
 *   GET [/logs/<hex>]/tile/entries/<N>[.p/<W>]   entry bundles, application/octet-stream
 *   GET /logs/<hex>/checkpoints/<size>           the log-data protocol's `checkpoints/<size>` body
 *   GET /logs/<hex>/entry-bundles/<N>/<K>        the log-data protocol's `entry-bundles/<N>/<K>` body
 *   GET /logs/<hex>/descriptor                   the origin's signed descriptor (log-data `descriptor`)
 * Full tiles never change: `Cache-Control: public, max-age=31536000, immutable`. Partial tiles are
 * cached briefly (a partial tile of one width never changes, but it is superseded as the tree grows).
 * Bodies are gzip-compressed when the client accepts it. Every read is admitted by the read budget
 * (read-budget.ts, `limits.read`) per client address: 429 or 503 with Retry-After when refused.
 */
import { promisify } from 'node:util'
import { gzip as gzipCallback } from 'node:zlib'
import { ScittError, TILE_WIDTH, concatBytes, parseTilePath } from '@scitt/core'
import { MAX_CHECKPOINTS_LISTED, encodeCheckpointList, entryBundles, parseBundlesResource } from '../federation/log-data.js'
import { reservation, type ReadBudget, type ReadKind } from '../read-budget.js'
import type { Ticket } from '../admission.js'
import { sendProblem } from './problem.js'
import { acceptsGzip, send } from './respond.js'
import type { Context, Router } from './router.js'
import type { HeldLog } from '../held-logs.js'
import type { HttpServices } from './services.js'

const gzip = promisify(gzipCallback)
const IMMUTABLE = 'public, max-age=31536000, immutable'
const PARTIAL = 'public, max-age=60'

/** How a route reads: under the budget (admitted per client, work bounded) or, without one, directly. */
interface Reader {
  /** Admits the request for a read of `kind` (gzipped when `gzip` and the client accepts it); undefined when it was refused (the refusal is sent). */
  admit: (ctx: Context, kind: ReadKind, gzip?: boolean) => Ticket | undefined
  work: <T>(fn: () => Promise<T>) => Promise<T>
}

function reader (budget: ReadBudget | undefined, client: (ctx: Context) => string): Reader {
  if (budget === undefined) return { admit: () => ({ admitted: true, release: () => {}, hold: () => {} }), work: async (fn) => await fn() }
  return {
    admit: (ctx, kind, gzip = true) => {
      const a = budget.admit(client(ctx), reservation(kind, gzip && acceptsGzip(ctx.req)))
      if (!a.admitted) {
        sendProblem(ctx.res, { status: a.status, title: a.status === 429 ? 'Too Many Requests' : 'Service Unavailable', detail: a.reason, retryAfter: a.retryAfter })
        return undefined
      }
      // Held until the answer has been sent or the connection is gone.
      ctx.res.once('close', a.ticket.release)
      return a.ticket
    },
    work: async (fn) => await budget.work(fn),
  }
}

/** Sends `body`, gzip-compressed (under the budget's work bound) when the client accepts it; the ticket holds what is sent. */
async function sendBody (ctx: Context, r: Reader, ticket: Ticket, body: Uint8Array, headers: Record<string, string>): Promise<void> {
  const vary = { ...headers, vary: 'Accept-Encoding' }
  if (body.length >= 256 && acceptsGzip(ctx.req)) {
    ticket.hold(2 * body.length) // the body and the compressor's output, at most about as large
    const compressed = await r.work(async () => await gzip(body))
    ticket.hold(compressed.length)
    send(ctx.res, 200, compressed, { ...vary, 'content-encoding': 'gzip' })
  } else {
    ticket.hold(body.length)
    send(ctx.res, 200, body, vary)
  }
}

/** Registers the tile routes; `budget` (limits.read) admits each read per client (`clients`); none: unlimited. */
export function tileRoutes (router: Router, services: HttpServices, budget?: ReadBudget): void {
  const r = reader(budget, (ctx) => services.clients.key(ctx.req))
  const own = (): HeldLog => services.held.all()[0]!
  const held = (hash: string): HeldLog => {
    const found = services.held.byHash(hash)
    if (found === undefined) throw new ScittError('NOT_FOUND', 'no log with this origin hash here (see GET /federation for the logs this node holds)')
    return found
  }
  router.add('GET', 'checkpoint', /^\/checkpoint$/, (ctx) => { sendCheckpoint(ctx, r, own()) })
  router.add('GET', 'tile', /^\/(tile\/.+)$/, async (ctx) => { await sendTile(ctx, r, own(), ctx.params[0]!) })
  router.add('GET', 'log-checkpoint', /^\/logs\/([0-9a-f]{64})\/checkpoint$/, (ctx) => { sendCheckpoint(ctx, r, held(ctx.params[0]!)) })
  router.add('GET', 'log-tile', /^\/logs\/([0-9a-f]{64})\/(tile\/.+)$/, async (ctx) => { await sendTile(ctx, r, held(ctx.params[0]!), ctx.params[1]!) })
  // The other resources of the log-data protocol, for mirrors that cannot reach the node over libp2p.
  router.add('GET', 'log-checkpoints', /^\/logs\/([0-9a-f]{64})\/checkpoints\/(0|[1-9][0-9]{0,15})$/, async (ctx) => {
    const size = Number(ctx.params[1])
    if (!Number.isSafeInteger(size)) throw new ScittError('MALFORMED', 'size above 2^53-1')
    const log = held(ctx.params[0]!).log
    const ticket = r.admit(ctx, 'data', false)
    if (ticket === undefined) return
    const body = encodeCheckpointList(await r.work(async () => await log.checkpointsAfter(size, MAX_CHECKPOINTS_LISTED)))
    ticket.hold(body.length)
    send(ctx.res, 200, body, { 'content-type': 'application/octet-stream', 'cache-control': 'no-store' })
  })
  router.add('GET', 'log-entry-bundles', /^\/logs\/([0-9a-f]{64})\/(entry-bundles\/[0-9]+\/[0-9]+)$/, async (ctx) => {
    const log = held(ctx.params[0]!).log
    const resource = parseBundlesResource(ctx.params[1]!)
    const ticket = r.admit(ctx, 'data')
    if (ticket === undefined) return
    const body = concatBytes(...await r.work(async () => await entryBundles(log, resource)))
    await sendBody(ctx, r, ticket, body, { 'content-type': 'application/octet-stream', 'cache-control': 'no-store' })
  })
  router.add('GET', 'log-descriptor', /^\/logs\/([0-9a-f]{64})\/descriptor$/, (ctx) => {
    const log = held(ctx.params[0]!)
    const descriptor = log.descriptor()
    if (descriptor === undefined) throw new ScittError('NOT_FOUND', `no descriptor of ${log.origin} here`)
    const ticket = r.admit(ctx, 'held')
    if (ticket === undefined) return
    ticket.hold(descriptor.length)
    send(ctx.res, 200, descriptor, { 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-store' })
  })
}

function sendCheckpoint (ctx: Context, r: Reader, held: HeldLog): void {
  const note = held.checkpointNote()
  if (note === undefined) throw new ScittError('NOT_FOUND', `no checkpoint of ${held.origin} yet`)
  const ticket = r.admit(ctx, 'held')
  if (ticket === undefined) return
  ticket.hold(note.length)
  send(ctx.res, 200, note, { 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-store' })
}

async function sendTile (ctx: Context, r: Reader, held: HeldLog, path: string): Promise<void> {
  const { kind, tile } = parseTilePath(path)
  const ticket = r.admit(ctx, kind === 'hash' ? 'tile' : 'data')
  if (ticket === undefined) return
  const body = await r.work(async () => kind === 'hash' ? await held.log.tile(tile) : await held.log.entryBundle(tile.index, tile.width))
  await sendBody(ctx, r, ticket, body, {
    'content-type': 'application/octet-stream',
    'cache-control': tile.width === TILE_WIDTH ? IMMUTABLE : PARTIAL,
  })
}
