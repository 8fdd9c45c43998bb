/**
 * C2SP tlog-tiles read API of the node's own log (spec digest §6.5):
 *   GET /checkpoint                     text/plain, not cacheable; with the witnesses' cosignatures
 *                                       gathered by the federation, when it has any
 *   GET /tile/<L>/<N>[.p/<W>]           hash tiles, application/octet-stream
 *   GET /tile/entries/<N>[.p/<W>]       entry bundles, application/octet-stream
 * Full tiles never change: `Cache-Control: public, max-age=31536000, immutable`. Partial tiles are
 * cached briefly (a partial tile of one width never changes, but it is superseded as the tree grows).
 * Bodies are gzip-compressed when the client accepts it.
 */
import { TILE_WIDTH, parseTilePath } from '@scitt/core'
import { sendMaybeGzip, send } from './respond.js'
import type { Router } from './router.js'
import type { HttpServices } from './services.js'

const IMMUTABLE = 'public, max-age=31536000, immutable'
const PARTIAL = 'public, max-age=60'

export function tileRoutes (router: Router, services: HttpServices): void {
  const { log } = services

  router.add('GET', 'checkpoint', /^\/checkpoint$/, (ctx) => {
    send(ctx.res, 200, services.federation()?.cosignedCheckpoint() ?? log.latestCheckpoint()!.note, { 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-store' })
  })

  router.add('GET', 'tile', /^\/(tile\/.+)$/, async (ctx) => {
    const { kind, tile } = parseTilePath(ctx.params[0]!)
    const body = kind === 'hash' ? await log.tile(tile) : await log.entryBundle(tile.index, tile.width)
    await sendMaybeGzip(ctx.req, ctx.res, body, {
      'content-type': 'application/octet-stream',
      'cache-control': tile.width === TILE_WIDTH ? IMMUTABLE : PARTIAL,
    })
  })
}
