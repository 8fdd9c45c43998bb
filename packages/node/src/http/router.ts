/**
 * A small router for node:http: routes are a method, a name (the metrics label) and a path pattern
 * whose capture groups become `params`. A path that matches no route is 404; a path that matches
 * with another method is 405 with Allow.
 */
import type { IncomingMessage, ServerResponse } from 'node:http'

export interface Context {
  req: IncomingMessage
  res: ServerResponse
  params: string[]
}

export type Handler = (ctx: Context) => Promise<void> | void

interface Route {
  method: string
  name: string
  pattern: RegExp
  handler: Handler
}

export type Match =
  | { kind: 'route', name: string, handler: Handler, params: string[] }
  | { kind: 'not-found' }
  | { kind: 'method-not-allowed', allow: string[] }

export class Router {
  readonly #routes: Route[] = []

  add (method: 'GET' | 'POST', name: string, pattern: RegExp, handler: Handler): this {
    this.#routes.push({ method, name, pattern, handler })
    return this
  }

  match (method: string, path: string): Match {
    const allow: string[] = []
    for (const route of this.#routes) {
      const m = route.pattern.exec(path)
      if (m === null) continue
      if (route.method === method) return { kind: 'route', name: route.name, handler: route.handler, params: m.slice(1).map((p) => p ?? '') }
      allow.push(route.method)
    }
    return allow.length === 0 ? { kind: 'not-found' } : { kind: 'method-not-allowed', allow }
  }
}
