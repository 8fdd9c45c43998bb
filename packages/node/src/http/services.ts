/** What the HTTP handlers need from the node (composed in node.ts). */
import type { Log } from '@scitt/log'
import type { NodeConfig } from '../config.js'
import type { Federation } from '../federation/federation.js'
import type { HeldLogs } from '../held-logs.js'
import type { Halt } from '../history-guard.js'
import type { ReceiptKey } from '../keys.js'
import type { Logger } from '../logger.js'
import type { Mirrors } from '../mirror/mirrors.js'
import type { NodeMetrics } from '../metrics.js'
import type { RateLimiter } from '../rate-limit.js'
import type { Registrar } from '../registration/registrar.js'
import type { VerifyPool } from '../registration/verify-pool.js'
import type { ClientAddresses } from './client-address.js'
import type { Submitters } from './submitters.js'

export interface HttpServices {
  config: NodeConfig
  log: Log
  pool: VerifyPool
  registrar: Registrar
  /** The per-client-address bucket of POST /entries (limits.rateLimit), unused when submitters are configured. */
  limiter: RateLimiter | undefined
  /** Who a request comes from, for every per-client limit. */
  clients: ClientAddresses
  /** Bearer tokens of POST /entries (http.submitters). */
  submitters: Submitters
  receiptKey: ReceiptKey
  metrics: NodeMetrics
  logger: Logger
  /** False until start-up completes and again once stopping begins. */
  isReady: () => boolean
  isStopping: () => boolean
  /** Why the node refuses to sign (history-guard.ts), or undefined. */
  halted: () => Halt | undefined
  /** The federation service, once started (undefined without one). */
  federation: () => Federation | undefined
  /** The logs the node holds, its own first. */
  held: HeldLogs
  /** The mirrors, once started (undefined without a federation). */
  mirrors: () => Mirrors | undefined
}
