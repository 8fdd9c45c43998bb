/**
 * One SCITT Transparency Service node: composes the key files, the LevelDB log, the verify pool, the
 * rate limiter, metrics, the HTTP server and, when the config has a federation section, the federation
 * over libp2p, with one start/stop lifecycle.
 *
 * Start: keys and policies are checked before anything opens; the log opens; the HTTP server listens
 * (readyz 503 until the end of start-up); the federation joins its network (it announces the HTTP URL);
 * the mirrors (and cross-registrations) start; then the node is ready.
 *
 * Stop: stop accepting (readyz 503, new registrations 503, the listener closes), wait for requests in
 * flight and drain pending registrations, stop the cross-registrations and mirrors, integrate what is
 * queued (the log publishes a last checkpoint), leave the federation once it has gossiped that
 * checkpoint and asked its witnesses to cosign it (bounded), then close the verify workers and the
 * database.
 *
 * Storage (data-dir.ts): the log's files under `log/` and `nodes/log/`, and the root keyspace of the
 * node's LevelDB under one-byte prefixes ('s', 'c', 'i'); the federation (witness state, evidence, mirror receipt keys, cross-registration
 * cursors) lives in the sublevel `federation` and each mirrored log in the sublevel `m-<hex(SHA-256(
 * origin))>`: sublevel keys start with '!' (0x21) and so never fall in a range the log or its fsck reads.
 */
import './p2p/polyfill.js'
import { mkdirSync } from 'node:fs'
import type { Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { Level } from 'level'
import {
  cosignatureSignerFromSkey, ed25519NoteVerifier, encodeCoseKey, noteSignerFromSkey, parseSkey, receiptProtectedHeader, type NoteSigner,
} from '@scitt/core'
import { nodeSignatures } from '@scitt/node-crypto'
import { LEVELDB_OPTIONS, Log } from '@scitt/log'
import type { FederationConfig, NodeConfig } from './config.js'
import { Federation } from './federation/federation.js'
import { CrossRegistration } from './mirror/cross-registration.js'
import { MirrorMetrics } from './mirror/metrics.js'
import { Mirrors } from './mirror/mirrors.js'
import { mirrorDatabase } from './mirror/database.js'
import { mirrorLogFiles, ownLogFiles } from './data-dir.js'
import { FederationMetrics } from './federation/metrics.js'
import { ClientAddresses } from './http/client-address.js'
import { createHttpServer, type HttpServer } from './http/server.js'
import { Submitters } from './http/submitters.js'
import { HeldLogs } from './held-logs.js'
import { HistoryGuard } from './history-guard.js'
import { loadPeerSeed, loadReceiptKey, loadSkey, witnessKeyName, witnessVkeyFromSkey, type ReceiptKey } from './keys.js'
import { silentLogger, type Logger } from './logger.js'
import { NodeMetrics } from './metrics.js'
import { RateLimiter } from './rate-limit.js'
import { ReadBudget } from './read-budget.js'
import { RegistrationPolicy } from './registration/policy.js'
import { Registrar } from './registration/registrar.js'
import { VerifyPool } from './registration/verify-pool.js'
import { migrateStoreLayout } from './store-layout.js'
import type { FederationDb } from './witness/store.js'
import { WitnessLimits } from './witness/witness-limits.js'

/** A part of the node that has started: stopped in the reverse order of the starts, at stop and when a later start fails. */
interface StartedPart {
  name: string
  stop: () => Promise<void>
}

/** Stops the parts, last started first; a part that fails to stop is logged and the others still stop. */
async function stopParts (parts: StartedPart[], logger: Logger): Promise<void> {
  for (const part of parts.splice(0).reverse()) {
    try {
      await part.stop()
    } catch (err) {
      logger.error({ part: part.name, err: (err as Error).message }, 'a part of the node did not stop cleanly')
    }
  }
}

/** The node database's `federation` sublevel. */
function federationStore (db: Level<Uint8Array, Uint8Array>): ReturnType<typeof db.sublevel<string, Uint8Array>> {
  return db.sublevel<string, Uint8Array>('federation', { keyEncoding: 'utf8', valueEncoding: 'view' })
}

export interface StartOptions {
  config: NodeConfig
  logger?: Logger
  /** Also export prom-client's process metrics (the CLI does). */
  defaultMetrics?: boolean
  /** Longest wait for requests in flight when stopping, in ms (default 10 000). */
  stopTimeoutMs?: number
}

/** What the federation needs from the key files, loaded before anything opens. */
interface FederationKeys {
  config: FederationConfig
  peerSeed: Uint8Array
  witnessSigner: NoteSigner | undefined
  witnessVkey: string | undefined
}

function loadFederationKeys (config: NodeConfig): FederationKeys | undefined {
  const fed = config.federation
  if (fed === undefined) return undefined
  const peerSeed = loadPeerSeed(config.keys.peer!) // config.ts sets keys.peer whenever the federation is on
  if (!fed.roles.includes('witness')) return { config: fed, peerSeed, witnessSigner: undefined, witnessVkey: undefined }
  const skey = loadSkey(config.keys.witness!, witnessKeyName(config.origin)) // set by config.ts for the witness role
  return {
    config: fed,
    peerSeed,
    witnessSigner: cosignatureSignerFromSkey(skey, () => Math.floor(Date.now() / 1000), nodeSignatures),
    witnessVkey: witnessVkeyFromSkey(skey),
  }
}

export class ScittNode {
  readonly config: NodeConfig
  readonly log: Log
  readonly metrics: NodeMetrics
  readonly receiptKey: ReceiptKey
  #federation: Federation | undefined
  #mirrors: Mirrors | undefined
  readonly #crossRegistrations: CrossRegistration[] = []
  readonly #db: Level<Uint8Array, Uint8Array>
  readonly #pool: VerifyPool
  readonly #registrar: Registrar
  readonly #http: HttpServer
  readonly #logger: Logger
  readonly #stopTimeoutMs: number
  readonly #held: HeldLogs
  readonly #guard: HistoryGuard
  /** What has started, in order (see StartedPart). */
  #parts: StartedPart[] = []
  #ready = false
  #stopping: Promise<void> | undefined

  private constructor (parts: {
    config: NodeConfig, log: Log, db: Level<Uint8Array, Uint8Array>, pool: VerifyPool, receiptKey: ReceiptKey,
    metrics: NodeMetrics, logger: Logger, stopTimeoutMs: number, guard: HistoryGuard
  }) {
    this.config = parts.config
    this.log = parts.log
    this.#db = parts.db
    this.#pool = parts.pool
    this.receiptKey = parts.receiptKey
    this.metrics = parts.metrics
    this.#logger = parts.logger
    this.#stopTimeoutMs = parts.stopTimeoutMs
    this.#held = new HeldLogs([parts.config.origin, ...(parts.config.federation?.mirror ?? [])])
    this.#held.add({ origin: parts.config.origin, log: parts.log, checkpointNote: () => parts.log.latestCheckpoint()?.note, descriptor: () => undefined })
    this.#guard = parts.guard
    this.#registrar = new Registrar(parts.log, parts.metrics, parts.logger, parts.config.limits.registrationWaitMs, () => this.#guard.halted)
    const { rateLimit } = parts.config.limits
    this.#http = createHttpServer({
      config: parts.config,
      log: parts.log,
      pool: parts.pool,
      registrar: this.#registrar,
      limiter: rateLimit === null ? undefined : new RateLimiter(rateLimit),
      clients: new ClientAddresses({ trustedProxies: parts.config.http.trustedProxies, ipv6Prefix: parts.config.limits.ipv6Prefix }),
      submitters: new Submitters(parts.config.http.submitters),
      receiptKey: parts.receiptKey,
      metrics: parts.metrics,
      logger: parts.logger,
      isReady: () => this.#ready && this.#stopping === undefined && this.#guard.halted === undefined,
      halted: () => this.#guard.halted,
      isStopping: () => this.#stopping !== undefined,
      federation: () => this.#federation,
      held: this.#held,
      mirrors: () => this.#mirrors,
    })
  }

  /** Loads the keys, opens the log, starts the workers and listens. Errors leave nothing running. */
  static async start (options: StartOptions): Promise<ScittNode> {
    const { config } = options
    const logger = options.logger ?? silentLogger()
    // Everything that can fail on bad input comes before anything is opened.
    // The registration policy validates the issuer keys (ConfigError).
    void new RegistrationPolicy(config.registration)
    const logSkey = loadSkey(config.keys.log, config.origin)
    const logSigner = noteSignerFromSkey(logSkey, nodeSignatures)
    const federationKeys = loadFederationKeys(config)
    const receiptKey = loadReceiptKey(config.keys.receipt)
    const receiptProtected = receiptProtectedHeader({ alg: receiptKey.coseKey.algorithm, kid: receiptKey.coseKey.kid, iss: config.issuer })

    const parts: StartedPart[] = []
    try {
      mkdirSync(config.dataDir, { recursive: true, mode: 0o700 })
      const db = new Level<Uint8Array, Uint8Array>(config.dataDir, LEVELDB_OPTIONS)
      await db.open()
      parts.push({ name: 'database', stop: async () => { await db.close() } })
      const moved = await migrateStoreLayout(federationStore(db))
      if (moved > 0) logger.info({ keys: moved }, 'federation store: keys rewritten to the current layout')
      const log = await Log.open({
        db,
        files: ownLogFiles(config.dataDir),
        origin: config.origin,
        logSigner,
        receiptSigner: receiptKey.signer,
        receiptProtected,
        batchSize: config.log.batchSize,
        batchAgeMs: config.log.batchAgeMs,
        maxPending: config.log.maxPending,
        sync: config.log.sync,
      })
      parts.push({ name: 'log', stop: async () => { await log.close() } })
      const pool = new VerifyPool({ registration: config.registration, threads: config.limits.verifyWorkers, maxQueue: config.limits.verifyQueue })
      parts.push({ name: 'verify pool', stop: async () => { await pool.close() } })
      await pool.ready()
      const guard = new HistoryGuard(config.keys.logHead, config.origin, logger)
      await guard.check(log)
      log.onCheckpoint((cp) => { guard.record(cp) })
      parts.push({ name: 'history guard', stop: async () => { await guard.flush() } })
      const metrics = new NodeMetrics({ defaultMetrics: options.defaultMetrics ?? false })
      metrics.logSync.set(config.log.sync ? 1 : 0)
      if (!config.log.sync) logger.warn('log.sync is false: batches are not fsynced before they are acknowledged, so a power loss (not a crash of the process) can lose acknowledged entries and, with them, signed checkpoints')
      const node = new ScittNode({ config, log, db, pool, receiptKey, metrics, logger, stopTimeoutMs: options.stopTimeoutMs ?? 10_000, guard })
      node.#parts = parts
      await node.#listen()
      parts.push({ name: 'http', stop: async () => { await node.#closeListeners() } })
      if (federationKeys !== undefined) {
        const logPublicKey = nodeSignatures.signer('Ed25519', parseSkey(logSkey, nodeSignatures).seed).publicKey
        const federation = await node.#startFederation(federationKeys, logSigner, ed25519NoteVerifier(config.origin, logPublicKey, nodeSignatures))
        node.#federation = federation
        parts.push({ name: 'federation', stop: async () => { await federation.stop() } })
        federation.on((event) => { if (event.type === 'larger-history') guard.halt(event.reason) })
      }
      // Stopped before the federation leaves, so that it gossips (and has cosigned) the last checkpoint.
      parts.push({ name: 'last checkpoint', stop: async () => { await node.#publishLast() } })
      if (node.#federation !== undefined && federationKeys !== undefined) {
        const mirrors = await node.#startMirrors(node.#federation, federationKeys.config)
        node.#mirrors = mirrors
        parts.push({ name: 'mirrors', stop: async () => { await Promise.all(node.#crossRegistrations.map(async (c) => c.stop())); await mirrors.stop() } })
      }
      node.#ready = true
      const cp = log.latestCheckpoint()
      logger.info({ url: node.url, origin: config.origin, treeSize: cp?.size ?? 0, verifyWorkers: pool.size, federation: node.federation?.name, peerId: node.federation?.peerId, multiaddrs: node.federation?.multiaddrs }, 'scitt-node listening')
      return node
    } catch (err) {
      await stopParts(parts, logger)
      throw err
    }
  }

  async #listen (): Promise<void> {
    const listen = async (server: Server, port: number, host: string): Promise<void> => {
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject)
        server.listen(port, host, () => {
          server.off('error', reject)
          resolve()
        })
      })
    }
    await listen(this.#http.server, this.config.http.port, this.config.http.host)
    const { metricsListen } = this.config.http
    if (this.#http.metrics === undefined || metricsListen === undefined) return
    try {
      await listen(this.#http.metrics, metricsListen.port, metricsListen.host)
    } catch (err) {
      await new Promise<void>((resolve) => this.#http.server.close(() => resolve()))
      throw err
    }
  }

  /** Closes the HTTP listeners that are still open, and their connections. */
  async #closeListeners (): Promise<void> {
    for (const server of [this.#http.server, this.#http.metrics]) {
      if (server?.listening !== true) continue
      const closed = new Promise<void>((resolve) => server.close(() => resolve()))
      server.closeAllConnections()
      await closed
    }
  }

  /** Integrates what is queued (the log publishes its last checkpoint) and settles the registrations waiting on it. */
  async #publishLast (): Promise<void> {
    await this.log.close()
    await this.#guard.flush()
    await this.#registrar.drain()
  }

  /** The `federation` sublevel (its keys: store-layout.ts). */
  #store (): FederationDb {
    return federationStore(this.#db)
  }

  async #startFederation (keys: FederationKeys, logSigner: NoteSigner, logVerifier: ReturnType<typeof ed25519NoteVerifier>): Promise<Federation> {
    const fed = keys.config
    return await Federation.start({
      name: fed.name,
      log: this.log,
      logSigner,
      logVerifier,
      ...(keys.witnessSigner === undefined ? {} : { witnessSigner: keys.witnessSigner }),
      ...(keys.witnessVkey === undefined ? {} : { witnessVkey: keys.witnessVkey }),
      receiptKey: encodeCoseKey(this.receiptKey.coseKey),
      trust: fed.trust,
      db: this.#store(),
      peerSeed: keys.peerSeed,
      listen: fed.listen,
      bootstrap: fed.bootstrap,
      httpUrl: this.config.http.publicUrl ?? this.url,
      ...(this.config.sector === undefined ? {} : { sector: this.config.sector }),
      roles: fed.roles,
      mirrors: fed.mirror,
      held: this.#held,
      logSync: this.config.log.sync,
      witnessLimits: new WitnessLimits(this.config.limits.addCheckpoint, this.config.limits.retryAfterSeconds),
      readBudget: new ReadBudget(this.config.limits.read, this.config.limits.retryAfterSeconds),
      logger: this.#logger,
      metrics: new FederationMetrics(this.metrics.registry),
      heartbeatMs: fed.heartbeatMs,
      announceMs: fed.announceMs,
      timeoutMs: fed.timeoutMs,
    })
  }

  async #startMirrors (federation: Federation, fed: FederationConfig): Promise<Mirrors> {
    const metrics = new MirrorMetrics(this.metrics.registry)
    const store = this.#store()
    const mirrors = await Mirrors.start({
      origins: fed.mirror,
      federation,
      trust: fed.trust,
      held: this.#held,
      database: (name) => mirrorDatabase(this.#db, name),
      files: (origin) => mirrorLogFiles(this.config.dataDir, origin),
      store,
      logger: this.#logger,
      metrics,
      timeoutMs: fed.timeoutMs,
    })
    mirrors.onOpen((mirror) => {
      if (!fed.crossRegister.includes(mirror.origin)) return
      void CrossRegistration.start({ mirror, pool: this.#pool, registrar: this.#registrar, store, logger: this.#logger, metrics })
        .then((c) => { this.#crossRegistrations.push(c) }, (err: unknown) => { this.#logger.error({ origin: mirror.origin, err: (err as Error).message }, 'cross-registration did not start') })
    })
    return mirrors
  }

  /** The mirrors (undefined without a federation section). */
  get mirrors (): Mirrors | undefined {
    return this.#mirrors
  }

  /** The federation service (undefined without a federation section). */
  get federation (): Federation | undefined {
    return this.#federation
  }

  /** The HTTP base URL the node listens on (the real port when configured with 0). */
  get url (): string {
    return urlOf(this.#http.server)
  }

  /** The base URL of the /metrics listener (`http.metricsListen`), or undefined when /metrics is served at `url`. */
  get metricsUrl (): string | undefined {
    return this.#http.metrics?.listening === true ? urlOf(this.#http.metrics) : undefined
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
    await stopParts(this.#parts, this.#logger)
    const cp = this.log.latestCheckpoint()
    this.#logger.info({ treeSize: cp?.size ?? 0 }, 'stopped')
  }
}

function urlOf (server: Server): string {
  const address = server.address() as AddressInfo
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address
  return `http://${host}:${address.port}`
}
