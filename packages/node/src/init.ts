/**
 * `scitt-node init`: a node directory with its four key files (mode 0600) and a commented example
 * config (JSON; keys starting with "//" are comments). Refuses to overwrite anything.
 */
import { existsSync, openSync, writeSync, closeSync } from 'node:fs'
import { join } from 'node:path'
import type { SignatureAlgorithm } from '@scitt/core'
import { KeyFileError, KEY_FILES, initKeys } from './keys.js'

export interface InitOptions {
  dir: string
  origin: string
  sector?: string
  receiptAlgorithm?: SignatureAlgorithm
  port?: number
}

export interface InitResult {
  dir: string
  config: string
  keys: { log: string, receipt: string, witness: string, peer: string }
  logVkey: string
  witnessVkey: string
}

export const CONFIG_FILE = 'config.json'

export function exampleConfig (options: InitOptions): Record<string, unknown> {
  return {
    '//': 'scitt-node configuration. Keys starting with "//" are comments; unknown fields are errors. Relative paths are relative to this file.',
    origin: options.origin,
    '//issuer': 'CWT iss of the receipts (defaults to the origin)',
    issuer: options.origin,
    ...(options.sector === undefined ? {} : { sector: options.sector }),
    dataDir: 'data',
    keys: { log: KEY_FILES.log, receipt: KEY_FILES.receipt, witness: KEY_FILES.witness, peer: KEY_FILES.peer },
    http: { host: '127.0.0.1', port: options.port ?? 8080, '//publicUrl': 'set publicUrl to the URL clients use, e.g. "https://ts.example"' },
    log: { batchSize: 256, batchAgeMs: 100, maxPending: 10000, sync: true },
    limits: {
      '//': 'maxBodyBytes is checked before reading; registrationWaitMs is how long POST /entries waits for a receipt before answering 303',
      maxBodyBytes: 262144,
      registrationWaitMs: 500,
      verifyWorkers: 0,
      verifyQueue: 8192,
      retryAfterSeconds: 1,
      '//rateLimit': 'per client address, on POST /entries; null disables it',
      rateLimit: { perSecond: 50, burst: 100, maxClients: 10000 },
    },
    registration: {
      '//': 'who may register: issuers by iss with their keys ({"jwk": {...}} or {"coseKey": "<base64url>"}), and did:key issuers when enabled',
      maxStatementSize: 65535,
      algorithms: ['Ed25519', 'ES256', 'ES384'],
      '//contentTypes': 'e.g. ["application/spdx+json"]; absent = any',
      requireHashEnvelope: false,
      issuers: [],
      didKey: { enabled: false, algorithms: ['Ed25519', 'ES256'] },
    },
    federation: {
      '//': 'federation over libp2p: OFF until "name" is set (rename "//name" to "name"). Then the node joins scitt/<name>, listens on "listen", dials "bootstrap" (multiaddrs ending in /p2p/<peer id>), gossips and cross-witnesses its checkpoints',
      '//name': 'scitt-devnet',
      '//listen': 'libp2p listen addresses; default ["/ip4/127.0.0.1/tcp/0"] (loopback, any port). Use e.g. "/ip4/0.0.0.0/tcp/4001" to accept other machines',
      bootstrap: [],
      '//trustPolicy': 'a C2SP tlog-policy file (log, witness, group, quorum lines; relative to this file): the origins this node trusts and witnesses, and the witness quorum its checkpoints need. Without one the node trusts no other origin',
      '//roles': 'subset of "witness" (cosign the policy\'s origins with keys.witness), "mirror", "sector"; default ["witness"]',
      roles: ['witness'],
      heartbeatMs: 1000,
      announceMs: 10000,
      timeoutMs: 5000,
    },
  }
}

export function initNode (options: InitOptions): InitResult {
  const config = join(options.dir, CONFIG_FILE)
  if (existsSync(config)) throw new KeyFileError(`refusing to overwrite the existing ${config}`)
  const keys = initKeys({ dir: options.dir, origin: options.origin, ...(options.receiptAlgorithm === undefined ? {} : { receiptAlgorithm: options.receiptAlgorithm }) })
  const fd = openSync(config, 'wx', 0o644)
  try {
    writeSync(fd, Buffer.from(`${JSON.stringify(exampleConfig(options), null, 2)}\n`, 'utf8'))
  } finally {
    closeSync(fd)
  }
  return { dir: options.dir, config, keys: keys.files, logVkey: keys.logVkey, witnessVkey: keys.witnessVkey }
}
