/**
 * One SCITT Transparency Service node: composes the key files, the LevelDB log, the verify pool, the
 * rate limiter, metrics and the HTTP server, with one start/stop lifecycle.
 *
 * Stop: stop accepting (readyz 503, new registrations 503, the listener closes), wait for requests in
 * flight and drain pending registrations, integrate what is queued (the log publishes a last
 * checkpoint), then close the verify workers and the database.
 */
import { mkdirSync } from 'node:fs'
import type { AddressInfo } from 'node:net'
import { Level } from 'level'
import { receiptProtectedHeader, noteSignerFromSkey } from '@scitt/core'
import { nodeSignatures } from '@scitt/node-crypto'
import { Log, type LogDatabase } from '@scitt/log'
import type { NodeConfig } from './config.js'
import { createHttpServer, type HttpServer } from './http/server.js'
import { loadReceiptKey, loadSkey, type ReceiptKey } from './keys.js'
import { silentLogger, type Logger } from './logger.js'
import { NodeMetrics } from './metrics.js'
import { RateLimiter } from './rate-limit.js'
import { RegistrationPolicy } from './registration/policy.js'
import { Registrar } from './registration/registrar.js'
import { VerifyPool } from './registration/verify-pool.js'

export interface StartOptions {
  config: NodeConfig
  logger?: Logger
  /** Also export prom-client's process metrics (the CLI does). */
  defaultMetrics?: boolean
  /** Longest wait for requests in flight when stopping, in ms (default 10 000). */
  stopTimeoutMs?: number
}

export class ScittNode {
  readonly config: NodeConfig
  readonly log: Log
  readonly metrics: NodeMetrics
  readonly receiptKey: ReceiptKey
  readonly #db: Level<Uint8Array, Uint8Array>
  readonly #pool: VerifyPool
  readonly #registrar: Registrar
  readonly #http: HttpServer
  readonly #logger: Logger
  readonly #stopTimeoutMs: number
  #ready = false
  #stopping: Promise<void> | undefined

  private constructor (parts: {
    config: NodeConfig, log: Log, db: Level<Uint8Array, Uint8Array>, pool: VerifyPool, receiptKey: ReceiptKey,
    metrics: NodeMetrics, logger: Logger, stopTimeoutMs: number
  }) {
    this.config = parts.config
    this.log = parts.log
    this.#db = parts.db
    this.#pool = parts.pool
    this.receiptKey = parts.receiptKey
    this.metrics = parts.metrics
    this.#logger = parts.logger
    this.#stopTimeoutMs = parts.stopTimeoutMs
    this.#registrar = new Registrar(parts.log, parts.metrics, parts.logger, parts.config.limits.registrationWaitMs)
    const { rateLimit } = parts.config.limits
    this.#http = createHttpServer({
      config: parts.config,
      log: parts.log,
      pool: parts.pool,
      registrar: this.#registrar,
      limiter: rateLimit === null ? undefined : new RateLimiter(rateLimit),
      receiptKey: parts.receiptKey,
      metrics: parts.metrics,
      logger: parts.logger,
      isReady: () => this.#ready && this.#stopping === undefined,
      isStopping: () => this.#stopping !== undefined,
    })
  }

  /** Loads the keys, opens the log, starts the workers and listens. Errors leave nothing running. */
  static async start (options: StartOptions): Promise<ScittNode> {
    const { config } = options
    const logger = options.logger ?? silentLogger()
    // Everything that can fail on bad input comes before anything is opened.
    new RegistrationPolicy(config.registration) // eslint-disable-line no-new -- validates the issuer keys (ConfigError)
    const logSigner = noteSignerFromSkey(loadSkey(config.keys.log, config.origin), nodeSignatures)
    const receiptKey = loadReceiptKey(config.keys.receipt)
    const receiptProtected = receiptProtectedHeader({ alg: receiptKey.coseKey.algorithm, kid: receiptKey.coseKey.kid, iss: config.issuer })

    mkdirSync(config.dataDir, { recursive: true, mode: 0o700 })
    const db = new Level<Uint8Array, Uint8Array>(config.dataDir, { keyEncoding: 'view', valueEncoding: 'view' })
    await db.open()
    let log: Log | undefined
    let pool: VerifyPool | undefined
    try {
      log = await Log.open({
        db: db as unknown as LogDatabase,
        origin: config.origin,
        logSigner,
        receiptSigner: receiptKey.signer,
        receiptProtected,
        batchSize: config.log.batchSize,
        batchAgeMs: config.log.batchAgeMs,
        maxPending: config.log.maxPending,
        sync: config.log.sync,
      })
      pool = new VerifyPool({ registration: config.registration, threads: config.limits.verifyWorkers, maxQueue: config.limits.verifyQueue })
      await pool.ready()
      const metrics = new NodeMetrics({ defaultMetrics: options.defaultMetrics ?? false })
      const node = new ScittNode({ config, log, db, pool, receiptKey, metrics, logger, stopTimeoutMs: options.stopTimeoutMs ?? 10_000 })
      await node.#listen()
      return node
    } catch (err) {
      await pool?.close()
      await log?.close()
      await db.close()
      throw err
    }
  }

  async #listen (): Promise<void> {
    const { server } = this.#http
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject)
      server.listen(this.config.http.port, this.config.http.host, () => {
        server.off('error', reject)
        resolve()
      })
    })
    this.#ready = true
    const cp = this.log.latestCheckpoint()
    this.#logger.info({ url: this.url, origin: this.config.origin, treeSize: cp?.size ?? 0, verifyWorkers: this.#pool.size }, 'scitt-node listening')
  }

  /** The HTTP base URL the node listens on (the real port when configured with 0). */
  get url (): string {
    const address = this.#http.server.address() as AddressInfo
    const host = address.family === 'IPv6' ? `[${address.address}]` : address.address
    return `http://${host}:${address.port}`
  }

  /** Stops cleanly (see the module comment). Idempotent. */
  stop (): Promise<void> {
    this.#stopping ??= this.#stop()
    return this.#stopping
  }

  async #stop (): Promise<void> {
    const { server } = this.#http
    this.#logger.info('stopping: no new connections; draining registrations')
    const closed = new Promise<void>((resolve) => server.close(() => resolve()))
    server.closeIdleConnections()
    let timer: ReturnType<typeof setTimeout> | undefined
    const deadline = new Promise<void>((resolve) => { timer = setTimeout(resolve, this.#stopTimeoutMs) })
    await Promise.race([Promise.all([this.#http.idle(), this.#registrar.drain()]), deadline])
    clearTimeout(timer)
    server.closeAllConnections()
    await closed
    await this.log.close() // integrates anything queued and publishes its checkpoint
    await this.#registrar.drain()
    await this.#pool.close()
    await this.#db.close()
    const cp = this.log.latestCheckpoint()
    this.#logger.info({ treeSize: cp?.size ?? 0 }, 'stopped')
  }
}
