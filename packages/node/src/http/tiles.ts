/**
 * C2SP tlog-tiles read API (spec digest §6.5) of the node's own log, and of every log it holds (its
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
 * Bodies are gzip-compressed when the client accepts it.
 */
import { ScittError, TILE_WIDTH, concatBytes, parseTilePath } from '@scitt/core'
import { MAX_CHECKPOINTS_LISTED, encodeCheckpointList, entryBundles, parseBundlesResource } from '../federation/log-data.js'
import { sendMaybeGzip, send } from './respond.js'
import type { Context, Router } from './router.js'
import type { HeldLog } from '../held-logs.js'
import type { HttpServices } from './services.js'

const IMMUTABLE = 'public, max-age=31536000, immutable'
const PARTIAL = 'public, max-age=60'

export function tileRoutes (router: Router, services: HttpServices): void {
  const own = (): HeldLog => services.held.all()[0]!
  const held = (hash: string): HeldLog => {
    const found = services.held.byHash(hash)
    if (found === undefined) throw new ScittError('NOT_FOUND', 'no log with this origin hash here (see GET /federation for the logs this node holds)')
    return found
  }
  router.add('GET', 'checkpoint', /^\/checkpoint$/, (ctx) => { sendCheckpoint(ctx, own()) })
  router.add('GET', 'tile', /^\/(tile\/.+)$/, async (ctx) => { await sendTile(ctx, own(), ctx.params[0]!) })
  router.add('GET', 'log-checkpoint', /^\/logs\/([0-9a-f]{64})\/checkpoint$/, (ctx) => { sendCheckpoint(ctx, held(ctx.params[0]!)) })
  router.add('GET', 'log-tile', /^\/logs\/([0-9a-f]{64})\/(tile\/.+)$/, async (ctx) => { await sendTile(ctx, held(ctx.params[0]!), ctx.params[1]!) })
  // The other resources of the log-data protocol, for mirrors that cannot reach the node over libp2p.
  router.add('GET', 'log-checkpoints', /^\/logs\/([0-9a-f]{64})\/checkpoints\/(0|[1-9][0-9]{0,15})$/, async (ctx) => {
    const size = Number(ctx.params[1])
    if (!Number.isSafeInteger(size)) throw new ScittError('MALFORMED', 'size above 2^53-1')
    const body = encodeCheckpointList(await held(ctx.params[0]!).log.checkpointsAfter(size, MAX_CHECKPOINTS_LISTED))
    send(ctx.res, 200, body, { 'content-type': 'application/octet-stream', 'cache-control': 'no-store' })
  })
  router.add('GET', 'log-entry-bundles', /^\/logs\/([0-9a-f]{64})\/(entry-bundles\/[0-9]+\/[0-9]+)$/, async (ctx) => {
    const bundles = await entryBundles(held(ctx.params[0]!).log, parseBundlesResource(ctx.params[1]!))
    await sendMaybeGzip(ctx.req, ctx.res, concatBytes(...bundles), { 'content-type': 'application/octet-stream', 'cache-control': 'no-store' })
  })
  router.add('GET', 'log-descriptor', /^\/logs\/([0-9a-f]{64})\/descriptor$/, (ctx) => {
    const log = held(ctx.params[0]!)
    const descriptor = log.descriptor()
    if (descriptor === undefined) throw new ScittError('NOT_FOUND', `no descriptor of ${log.origin} here`)
    send(ctx.res, 200, descriptor, { 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-store' })
  })
}

function sendCheckpoint (ctx: Context, held: HeldLog): void {
  const note = held.checkpointNote()
  if (note === undefined) throw new ScittError('NOT_FOUND', `no checkpoint of ${held.origin} yet`)
  send(ctx.res, 200, note, { 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-store' })
}

async function sendTile (ctx: Context, held: HeldLog, path: string): Promise<void> {
  const { kind, tile } = parseTilePath(path)
  const body = kind === 'hash' ? await held.log.tile(tile) : await held.log.entryBundle(tile.index, tile.width)
  await sendMaybeGzip(ctx.req, ctx.res, body, {
    'content-type': 'application/octet-stream',
    'cache-control': tile.width === TILE_WIDTH ? IMMUTABLE : PARTIAL,
  })
}
