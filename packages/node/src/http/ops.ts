/**
 * Operations endpoints: GET /healthz (liveness), GET /readyz (503 while starting, stopping or halted),
 * GET /metrics (Prometheus text via prom-client; on its own listener with `http.metricsListen`).
 * Status bodies are JSON.
 */
import { send } from './respond.js'
import type { Router } from './router.js'
import type { HttpServices } from './services.js'

const JSON_TYPE = 'application/json'

export function opsRoutes (router: Router, services: HttpServices): void {
  const { log } = services

  router.add('GET', 'healthz', /^\/healthz$/, (ctx) => {
    send(ctx.res, 200, JSON.stringify({ status: 'ok' }), { 'content-type': JSON_TYPE, 'cache-control': 'no-store' })
  })

  router.add('GET', 'readyz', /^\/readyz$/, (ctx) => {
    const ready = services.isReady()
    const halt = services.halted()
    const status = ready ? 'ready' : services.isStopping() ? 'stopping' : halt !== undefined ? 'halted' : 'starting'
    const body = { status, treeSize: log.latestCheckpoint()?.size ?? 0, pending: log.pending, sync: services.config.log.sync, ...(halt === undefined ? {} : { reason: halt.reason }) }
    send(ctx.res, ready ? 200 : 503, JSON.stringify(body), { 'content-type': JSON_TYPE, 'cache-control': 'no-store' })
  })
}

/** `GET /metrics`, on the router of the listener that serves it. */
export function metricsRoute (router: Router, services: HttpServices): void {
  const { log, metrics, pool, registrar } = services
  router.add('GET', 'metrics', /^\/metrics$/, async (ctx) => {
    metrics.treeSize.set(log.latestCheckpoint()?.size ?? 0)
    metrics.pending.set(Math.max(log.pending, registrar.pending))
    metrics.verifyQueue.set(pool.inFlight)
    metrics.halted.set(services.halted() === undefined ? 0 : 1)
    send(ctx.res, 200, await metrics.registry.metrics(), { 'content-type': metrics.registry.contentType, 'cache-control': 'no-store' })
  })
}
