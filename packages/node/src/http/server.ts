/**
 * The node's HTTP server (node:http): routes, problem details for every 4xx/5xx (also for requests
 * node:http's parser refuses), request latency metrics, and a record of requests in flight so that
 * shutdown can wait for them. With `http.metricsListen` a second server answers `GET /metrics` only,
 * and the public one has no /metrics.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import { ScittError } from '@scitt/core'
import { ReadBudget } from '../read-budget.js'
import { WitnessLimits } from '../witness/witness-limits.js'
import { federationRoutes } from './federation-routes.js'
import { ERROR_STATUS, problemFor, refuseUnparsed, sendProblem } from './problem.js'
import { metricsRoute, opsRoutes } from './ops.js'
import { Router } from './router.js'
import { scrapiRoutes } from './scrapi.js'
import type { HttpServices } from './services.js'
import { tileRoutes } from './tiles.js'

export interface HttpServer {
  server: Server
  /** The /metrics listener of `http.metricsListen` (undefined: /metrics is on `server`). */
  metrics: Server | undefined
  /** Resolves when every request in flight has been answered. */
  idle: () => Promise<void>
}

/** The path of a request target (origin form; an absolute form's path), without the query; MALFORMED for a target that is neither. */
function pathOf (target: string): string {
  if (!target.startsWith('/') && !URL.canParse(target, 'http://localhost')) throw new ScittError('MALFORMED', 'the request target is not a valid URL')
  const path = target.startsWith('/') ? target : new URL(target, 'http://localhost').pathname
  const query = path.indexOf('?')
  return query < 0 ? path : path.slice(0, query)
}

export function createHttpServer (services: HttpServices): HttpServer {
  const router = new Router()
  scrapiRoutes(router, services)
  // Per client address over HTTP; the libp2p protocol has its own budget (per peer id).
  tileRoutes(router, services, new ReadBudget(services.config.limits.read, services.config.limits.retryAfterSeconds))
  opsRoutes(router, services)
  const separateMetrics = services.config.http.metricsListen !== undefined
  const metricsRouter = separateMetrics ? new Router() : router
  metricsRoute(metricsRouter, services)
  if (services.config.federation !== undefined) {
    federationRoutes(router, {
      witness: services.config.federation.roles.includes('witness') ? () => services.federation()?.witness : undefined,
      // Per client address over HTTP; the libp2p protocol has its own (per peer id).
      witnessLimits: new WitnessLimits(services.config.limits.addCheckpoint, services.config.limits.retryAfterSeconds),
      client: (req) => services.clients.key(req),
      federation: () => {
        const federation = services.federation()
        return federation === undefined
          ? undefined
          : { evidenceJson: () => federation.evidenceJson(), statusJson: () => ({ ...(federation.statusJson() as object), mirrors: services.mirrors()?.statusJson() ?? [] }) }
      },
    })
  }
  const inFlight = new Set<Promise<void>>()
  const retryAfter = services.config.limits.retryAfterSeconds

  // One histogram child per (method, route, status): prom-client's label lookup is not free per request.
  const latency = new Map<string, { observe: (seconds: number) => void }>()
  const observe = (method: string, route: string, status: number, seconds: number): void => {
    const key = `${method} ${route} ${status}`
    let child = latency.get(key)
    if (child === undefined) {
      child = services.metrics.httpSeconds.labels({ method, route, status: String(status) })
      latency.set(key, child)
    }
    child.observe(seconds)
  }

  const handle = async (router: Router, req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const started = performance.now()
    let route = 'unknown'
    try {
      const path = pathOf(req.url ?? '/')
      const match = router.match(req.method ?? 'GET', path)
      if (match.kind === 'not-found') {
        sendProblem(res, { status: 404, title: 'Not Found', detail: `no resource at ${path}` })
      } else if (match.kind === 'method-not-allowed') {
        sendProblem(res, { status: 405, title: 'Method Not Allowed', detail: `use ${match.allow.join(' or ')}` }, { allow: match.allow.join(', ') })
      } else {
        route = match.name
        await match.handler({ req, res, params: match.params })
      }
    } catch (err) {
      const problem = problemFor(err, retryAfter)
      if (problem.status >= 500) services.logger.error({ err, route }, 'request failed')
      if (res.headersSent) {
        res.destroy()
      } else {
        const tooLarge = problem.status === ERROR_STATUS.TOO_LARGE.status
        sendProblem(res, problem, tooLarge ? { connection: 'close' } : {})
      }
    } finally {
      observe(req.method ?? '', route, res.statusCode, (performance.now() - started) / 1000)
    }
  }

  // A client gets 10 s for its headers and 30 s for its whole request (slow senders are cut, checked
  // every second); the wait for a receipt after that is bounded by limits.registrationWaitMs.
  const serve = (router: Router): Server => {
    const server = createServer({ keepAliveTimeout: 5000, headersTimeout: 10_000, requestTimeout: 30_000, connectionsCheckingInterval: 1000 }, (req, res) => {
      const p = handle(router, req, res)
      inFlight.add(p)
      void p.finally(() => inFlight.delete(p))
    })
    server.on('clientError', refuseUnparsed)
    return server
  }
  return {
    server: serve(router),
    metrics: separateMetrics ? serve(metricsRouter) : undefined,
    idle: async () => {
      while (inFlight.size > 0) await Promise.allSettled([...inFlight])
    },
  }
}
