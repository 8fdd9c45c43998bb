/**
 * The node's configuration file (README "Running a node (operators)"): JSON, validated
 * strictly. A wrong field is a ConfigError that names the field and what was expected; unknown fields
 * are errors too (a typo must not silently fall back to a default). Keys starting with "//" are
 * comments, anywhere. Relative paths are resolved against the config file's directory.
 */
import { createHash } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { isIP } from 'node:net'
import { dirname, resolve } from 'node:path'
import { MAX_ENTRY_SIZE, SIGNATURE_ALGORITHMS, type SignatureAlgorithm } from '@scitt/core'
import { MAX_READ_RESERVATION } from './read-budget.js'
import { TrustPolicy } from './federation/trust.js'

export class ConfigError extends Error {
  override readonly name = 'ConfigError'
  /** The dotted path of the bad field, e.g. `http.port`. */
  readonly field: string

  constructor (field: string, message: string) {
    super(`config ${field}: ${message}`)
    this.field = field
  }
}

/** One key of an allowed issuer: a public JWK, or a COSE_Key as base64url. */
export type IssuerKeyConfig = { jwk: Record<string, unknown> } | { coseKey: string }

export interface IssuerConfig {
  iss: string
  keys: IssuerKeyConfig[]
}

/** The registration policy (README "Issuers"). Plain data: it is sent to the verify workers. */
export interface RegistrationConfig {
  /** Largest entry (the statement with its unprotected header cleared): at most 65 535 bytes. */
  maxStatementSize: number
  algorithms: SignatureAlgorithm[]
  /** Allowed content types (label 3, or 259 for hash envelopes); undefined = any. */
  contentTypes: Array<string | number> | undefined
  /** Reject statements whose payload is not a hash envelope (RFC 9995). */
  requireHashEnvelope: boolean
  issuers: IssuerConfig[]
  /** did:key issuers (the key is the identifier): allowed only when enabled, for these algorithms. */
  didKey: { enabled: boolean, algorithms: Array<'Ed25519' | 'ES256'> }
}

export interface RateLimitConfig {
  /** Requests per second per client (token refill rate). */
  perSecond: number
  burst: number
  /** Clients tracked at once; the stalest is forgotten beyond it. */
  maxClients: number
}

/**
 * Limits on the witness's `add-checkpoint` (C2SP tlog-witness), over HTTP per client address and over
 * libp2p per peer id, each transport with its own counts. Checked before the body is read or parsed:
 * over `maxInFlight` the answer is 503, over the client's rate or `maxInFlightPerClient` it is 429,
 * both with Retry-After. A log asks a witness about once per checkpoint (at most one request in
 * flight per witness, plus one retry after a 409), so the defaults leave room for many logs behind
 * one address.
 */
export interface AddCheckpointLimitsConfig {
  /** Token bucket per client; default 50/s, burst 100, 10 000 clients tracked; null disables it. */
  rateLimit: RateLimitConfig | null
  /** Requests being read or answered at once (default 16: with bodies of up to ~1 MiB, ~16 MiB). */
  maxInFlight: number
  /** Of those, at most this many from one client (default 4), so that one slow client cannot take every slot. */
  maxInFlightPerClient: number
}

/**
 * Limits on reads of log data: over HTTP (`/checkpoint`, `/tile/...`, and the same under `/logs/<hex>/`
 * with `checkpoints/<size>`, `entry-bundles/<N>/<K>`, `descriptor`) per client address, and over the
 * libp2p log-data protocol per peer id, each transport with its own counts (read-budget.ts). Over the
 * client's rate, `maxInFlightPerClient` or `maxBytesPerClient` the answer is 429 (libp2p: a PUSHBACK
 * refusal), over `maxInFlight` or `maxBytesInFlight` 503, both with Retry-After. A read reserves the
 * most its answer can take (an entry bundle of maximal entries: ~16.8 MiB, twice that when it is
 * gzipped) until it has been read, then holds its actual size until the answer has been sent.
 */
export interface ReadLimitsConfig {
  /** Token bucket per client; default 100/s, burst 200, 10 000 clients tracked; null disables it. */
  rateLimit: RateLimitConfig | null
  /** Reads admitted and not yet answered, in all (default 64). */
  maxInFlight: number
  /** Of those, at most this many from one client (default 8). */
  maxInFlightPerClient: number
  /** Bytes held by reads at once, in all (default 160 MiB; at least 2 × ~16.8 MiB, one gzipped maximal bundle). */
  maxBytesInFlight: number
  /**
   * Bytes held by one client's reads at once (default 80 MiB: a mirror's two gzipped maximal reads at
   * once; the same minimum; at most maxBytesInFlight).
   */
  maxBytesPerClient: number
  /**
   * Store reads and gzip compressions running at once (default 2). Both run on libuv's thread pool
   * (4 threads unless UV_THREADPOOL_SIZE says otherwise), which the log's own writes need too;
   * admitted reads beyond this wait their turn.
   */
  maxConcurrentWork: number
}

export interface LimitsConfig {
  /** Largest POST body accepted, checked before reading it. */
  maxBodyBytes: number
  /** How long POST /entries waits for integration before answering 303. */
  registrationWaitMs: number
  /** Verify worker threads; 0 = one per core. */
  verifyWorkers: number
  /** Statements waiting for a verify worker above which registration answers 503. */
  verifyQueue: number
  /** Retry-After on 202 / 429 / 503. */
  retryAfterSeconds: number
  /** Per-client-address token bucket on POST /entries; null disables it. */
  rateLimit: RateLimitConfig | null
  /** The witness's add-checkpoint, over HTTP and libp2p. */
  addCheckpoint: AddCheckpointLimitsConfig
  /** Reads of log data (tiles, entry bundles, checkpoints), over HTTP and libp2p. */
  read: ReadLimitsConfig
  /**
   * IPv6 clients are counted per network of this prefix length (default 64, 1 to 128): one host
   * usually holds a whole /64, so per-address buckets would not limit it. IPv4 clients: per address.
   */
  ipv6Prefix: number
}

/**
 * A client allowed to `POST /entries` with `Authorization: Bearer <token>` (RFC 6750). When any
 * submitter is configured, registration needs one of their tokens (401 otherwise) and each submitter
 * has its own token bucket instead of the per-address one. Only the token's SHA-256 is kept.
 */
export interface SubmitterConfig {
  name: string
  /** SHA-256 of the token (from `tokenSha256`, hex, or the trimmed contents of `tokenFile`). */
  tokenHash: Uint8Array
  /** Default 50/s, burst 100; null: no rate limit for this submitter. */
  rateLimit: { perSecond: number, burst: number } | null
}

export interface HttpConfig {
  host: string
  port: number
  publicUrl: string | undefined
  /**
   * Addresses or CIDR networks of reverse proxies (default none). Only when the connection comes from
   * one of them is `X-Forwarded-For` read: the client is its rightmost address that is not a trusted
   * proxy (client-address.ts); otherwise the client is the connection's peer address.
   */
  trustedProxies: string[]
  /** `host:port` (`[v6]:port` for IPv6) of a separate listener for `GET /metrics`; when set, the public listener has no /metrics. */
  metricsListen: { host: string, port: number } | undefined
  /** Registration tokens (default none: registration is open, limited per client address). */
  submitters: SubmitterConfig[]
}

/** What a node does for the federation (announced in its descriptor). */
export const FEDERATION_ROLES = ['witness', 'mirror', 'sector'] as const
export type FederationRole = typeof FEDERATION_ROLES[number]

/**
 * The federation over libp2p. It is on when the `federation` section has a `name`; a
 * section without one (and without listen addresses) leaves the node HTTP-only.
 */
export interface FederationConfig {
  /** Federation name: the node joins `scitt/<name>` (topics `/scitt/<name>/...`). */
  name: string
  /** libp2p listen multiaddrs (default `/ip4/127.0.0.1/tcp/0`). */
  listen: string[]
  /** Multiaddrs with `/p2p/<peer id>` dialled at start. */
  bootstrap: string[]
  /** Path of the C2SP tlog-policy trust policy file; undefined = `quorum none` and no logs (trusts no other origin). */
  trustPolicy: string | undefined
  /** The parsed trust policy. */
  trust: TrustPolicy
  /** Default ["witness"]: the node cosigns the policy's origins with its witness key. */
  roles: FederationRole[]
  /** Gossipsub heartbeat. */
  heartbeatMs: number
  /** Re-announce period of the node's descriptor. */
  announceMs: number
  /** Timeout of one peer request (add-checkpoint, consistency proof, head, log data). */
  timeoutMs: number
  /** Origins whose logs this node mirrors (each a `log` of the trust policy; needs the "mirror" role). */
  mirror: string[]
  /** Mirrored origins whose entries are also registered into this node's own log when its registration policy accepts them. */
  crossRegister: string[]
}

export interface NodeConfig {
  origin: string
  /** The receipts' CWT iss; defaults to the origin. */
  issuer: string
  sector: string | undefined
  dataDir: string
  /** `witness` and `peer` default to witness.key and peer.key when the federation needs them. */
  /** Key files; `logHead`: the latest size and root the log key signed (history-guard.ts; default log-head.json beside the log key). */
  keys: { log: string, receipt: string, witness: string | undefined, peer: string | undefined, logHead: string }
  http: HttpConfig
  log: { batchSize: number, batchAgeMs: number, maxPending: number, sync: boolean }
  limits: LimitsConfig
  registration: RegistrationConfig
  /** Undefined: no federation (HTTP only). */
  federation: FederationConfig | undefined
}

type Json = unknown

/** Reads one JSON object's fields, each with its path; `done()` rejects unknown fields. */
class Fields {
  readonly #seen = new Set<string>()
  constructor (readonly path: string, readonly value: Record<string, Json>) {}

  static of (path: string, value: Json): Fields {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new ConfigError(path || '(root)', `expected an object, got ${describe(value)}`)
    return new Fields(path, value as Record<string, Json>)
  }

  at (name: string): string {
    return this.path === '' ? name : `${this.path}.${name}`
  }

  get (name: string): Json {
    this.#seen.add(name)
    return Object.hasOwn(this.value, name) ? this.value[name] : undefined
  }

  string (name: string, fallback?: string): string {
    const v = this.get(name)
    if (v === undefined && fallback !== undefined) return fallback
    if (typeof v !== 'string' || v === '') throw new ConfigError(this.at(name), `expected a non-empty string, got ${describe(v)}`)
    return v
  }

  optionalString (name: string): string | undefined {
    return this.get(name) === undefined ? undefined : this.string(name)
  }

  integer (name: string, min: number, max: number, fallback: number): number {
    const v = this.get(name)
    if (v === undefined) return fallback
    if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < min || v > max) {
      throw new ConfigError(this.at(name), `expected an integer from ${min} to ${max}, got ${describe(v)}`)
    }
    return v
  }

  boolean (name: string, fallback: boolean): boolean {
    const v = this.get(name)
    if (v === undefined) return fallback
    if (typeof v !== 'boolean') throw new ConfigError(this.at(name), `expected true or false, got ${describe(v)}`)
    return v
  }

  strings (name: string, fallback: string[]): string[] {
    const v = this.get(name)
    if (v === undefined) return fallback
    if (!Array.isArray(v) || v.some((s) => typeof s !== 'string' || s === '')) throw new ConfigError(this.at(name), `expected an array of non-empty strings, got ${describe(v)}`)
    return v as string[]
  }

  object (name: string): Fields {
    const v = this.get(name)
    return Fields.of(this.at(name), v === undefined ? {} : v)
  }

  done (): void {
    for (const key of Object.keys(this.value)) {
      if (!this.#seen.has(key) && !key.startsWith('//')) throw new ConfigError(this.at(key), 'unknown field')
    }
  }
}

function describe (value: Json): string {
  if (value === undefined) return 'nothing'
  let text: string
  try {
    text = JSON.stringify(value)
  } catch { // nested too deeply to print
    text = Array.isArray(value) ? '[...]' : '{...}'
  }
  return text.length > 40 ? `${text.slice(0, 37)}...` : text
}

function algorithms (f: Fields, name: string, allowed: readonly string[], fallback: string[]): string[] {
  const list = f.strings(name, fallback)
  for (const [i, alg] of list.entries()) {
    if (!allowed.includes(alg)) throw new ConfigError(`${f.at(name)}[${i}]`, `expected one of ${allowed.join(', ')}, got ${describe(alg)}`)
  }
  return list
}

function registration (f: Fields): RegistrationConfig {
  const issuersValue = f.get('issuers') ?? []
  if (!Array.isArray(issuersValue)) throw new ConfigError(f.at('issuers'), `expected an array, got ${describe(issuersValue)}`)
  const issuers = issuersValue.map((item, i): IssuerConfig => {
    const issuer = Fields.of(`${f.at('issuers')}[${i}]`, item)
    const iss = issuer.string('iss')
    const keysValue = issuer.get('keys')
    if (!Array.isArray(keysValue) || keysValue.length === 0) throw new ConfigError(issuer.at('keys'), `expected a non-empty array of keys, got ${describe(keysValue)}`)
    const keys = keysValue.map((k, j): IssuerKeyConfig => {
      const key = Fields.of(`${issuer.at('keys')}[${j}]`, k)
      const jwk = key.get('jwk')
      const coseKey = key.get('coseKey')
      key.done()
      if ((jwk === undefined) === (coseKey === undefined)) throw new ConfigError(key.path, 'expected exactly one of "jwk" (a public JWK object) and "coseKey" (base64url COSE_Key)')
      if (jwk !== undefined) {
        if (typeof jwk !== 'object' || jwk === null || Array.isArray(jwk)) throw new ConfigError(key.at('jwk'), `expected a JWK object, got ${describe(jwk)}`)
        return { jwk: jwk as Record<string, unknown> }
      }
      if (typeof coseKey !== 'string' || !/^[A-Za-z0-9_-]+$/.test(coseKey)) throw new ConfigError(key.at('coseKey'), `expected base64url text, got ${describe(coseKey)}`)
      return { coseKey }
    })
    issuer.done()
    return { iss, keys }
  })
  const ctValue = f.get('contentTypes')
  let contentTypes: Array<string | number> | undefined
  if (ctValue !== undefined) {
    if (!Array.isArray(ctValue) || ctValue.some((c) => !(typeof c === 'string' && c !== '') && !(Number.isInteger(c) && (c as number) >= 0 && (c as number) <= 0xffff))) {
      throw new ConfigError(f.at('contentTypes'), `expected an array of media types or CoAP content-formats, got ${describe(ctValue)}`)
    }
    contentTypes = ctValue as Array<string | number>
  }
  const did = f.object('didKey')
  const didKey = {
    enabled: did.boolean('enabled', false),
    algorithms: algorithms(did, 'algorithms', ['Ed25519', 'ES256'], ['Ed25519', 'ES256']) as Array<'Ed25519' | 'ES256'>,
  }
  did.done()
  const config: RegistrationConfig = {
    maxStatementSize: f.integer('maxStatementSize', 1, MAX_ENTRY_SIZE, MAX_ENTRY_SIZE),
    algorithms: algorithms(f, 'algorithms', SIGNATURE_ALGORITHMS, [...SIGNATURE_ALGORITHMS]) as SignatureAlgorithm[],
    contentTypes,
    requireHashEnvelope: f.boolean('requireHashEnvelope', false),
    issuers,
    didKey,
  }
  f.done()
  return config
}

/** A `rateLimit` field: null disables it, a missing field or missing members take the defaults. */
function rateLimitAt (f: Fields, defaults = { perSecond: 50, burst: 100 }): RateLimitConfig | null {
  const rl = f.get('rateLimit')
  if (rl === null) return null
  const r = Fields.of(f.at('rateLimit'), rl === undefined ? {} : rl)
  const rateLimit = {
    perSecond: r.integer('perSecond', 1, 1_000_000_000, defaults.perSecond),
    burst: r.integer('burst', 1, 1_000_000_000, defaults.burst),
    maxClients: r.integer('maxClients', 1, 10_000_000, 10_000),
  }
  r.done()
  return rateLimit
}

function addCheckpointLimits (f: Fields): AddCheckpointLimitsConfig {
  const config: AddCheckpointLimitsConfig = {
    rateLimit: rateLimitAt(f),
    maxInFlight: f.integer('maxInFlight', 1, 100_000, 16),
    maxInFlightPerClient: f.integer('maxInFlightPerClient', 1, 100_000, 4),
  }
  f.done()
  return config
}

function readLimits (f: Fields): ReadLimitsConfig {
  const config: ReadLimitsConfig = {
    rateLimit: rateLimitAt(f, { perSecond: 100, burst: 200 }),
    maxInFlight: f.integer('maxInFlight', 1, 100_000, 64),
    maxInFlightPerClient: f.integer('maxInFlightPerClient', 1, 100_000, 8),
    maxBytesInFlight: f.integer('maxBytesInFlight', MAX_READ_RESERVATION, 2 ** 40, 160 * 1024 * 1024),
    maxBytesPerClient: f.integer('maxBytesPerClient', MAX_READ_RESERVATION, 2 ** 40, 80 * 1024 * 1024),
    maxConcurrentWork: f.integer('maxConcurrentWork', 1, 1024, 2),
  }
  if (config.maxBytesPerClient > config.maxBytesInFlight) throw new ConfigError(f.at('maxBytesPerClient'), `expected at most maxBytesInFlight (${config.maxBytesInFlight}), got ${config.maxBytesPerClient}`)
  f.done()
  return config
}

function limits (f: Fields): LimitsConfig {
  const rateLimit = rateLimitAt(f)
  const config: LimitsConfig = {
    maxBodyBytes: f.integer('maxBodyBytes', 1, 16 * 1024 * 1024, 256 * 1024),
    registrationWaitMs: f.integer('registrationWaitMs', 0, 60_000, 500),
    verifyWorkers: f.integer('verifyWorkers', 0, 256, 0),
    verifyQueue: f.integer('verifyQueue', 1, 1_000_000, 8192),
    retryAfterSeconds: f.integer('retryAfterSeconds', 1, 3600, 1),
    rateLimit,
    addCheckpoint: addCheckpointLimits(f.object('addCheckpoint')),
    read: readLimits(f.object('read')),
    ipv6Prefix: f.integer('ipv6Prefix', 1, 128, 64),
  }
  f.done()
  return config
}

/** An IP address, or a network as `<address>/<prefix length>` (IPv4 0..32, IPv6 0..128). */
function addressOrNetwork (at: string, text: string): string {
  const [address, prefix, ...rest] = text.split('/')
  const family = isIP(address ?? '')
  const bits = family === 4 ? 32 : 128
  if (family === 0 || rest.length > 0 || (prefix !== undefined && !(/^(0|[1-9][0-9]{0,2})$/.test(prefix) && Number(prefix) <= bits))) {
    throw new ConfigError(at, `expected an IP address or a CIDR network such as "10.0.0.0/8" or "fd00::/8", got ${describe(text)}`)
  }
  return text
}

/** `host:port` or `[v6]:port`, the host an IP address or a name. */
function listenAddress (at: string, text: string): { host: string, port: number } {
  const m = /^(?:\[([0-9A-Fa-f:.]+)\]|([A-Za-z0-9.-]+)):(0|[1-9][0-9]{0,4})$/.exec(text)
  const port = m === null ? NaN : Number(m[3])
  if (m === null || !(port <= 65535) || (m[1] !== undefined && isIP(m[1]) !== 6)) throw new ConfigError(at, `expected host:port such as "127.0.0.1:9464" or "[::1]:9464", got ${describe(text)}`)
  return { host: m[1] ?? m[2]!, port }
}

function submitters (f: Fields, name: string, baseDir: string, readFile: ReadFile): SubmitterConfig[] {
  const value = f.get(name) ?? []
  if (!Array.isArray(value)) throw new ConfigError(f.at(name), `expected an array, got ${describe(value)}`)
  const list = value.map((item, i): SubmitterConfig => {
    const s = Fields.of(`${f.at(name)}[${i}]`, item)
    const submitter = s.string('name')
    const hex = s.optionalString('tokenSha256')
    const file = s.optionalString('tokenFile')
    if ((hex === undefined) === (file === undefined)) throw new ConfigError(s.path, 'expected exactly one of "tokenSha256" (hex SHA-256 of the token) and "tokenFile" (a file holding the token)')
    let tokenHash: Uint8Array
    if (hex !== undefined) {
      if (!/^[0-9a-f]{64}$/.test(hex)) throw new ConfigError(s.at('tokenSha256'), `expected 64 lowercase hex digits, got ${describe(hex)}`)
      tokenHash = Buffer.from(hex, 'hex')
    } else {
      let token: string
      try {
        token = Buffer.from(readFile(resolve(baseDir, file!))).toString('utf8').trim()
      } catch (err) {
        throw new ConfigError(s.at('tokenFile'), `cannot read ${file!}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`)
      }
      if (!/^[A-Za-z0-9._~+/-]{16,4096}=*$/.test(token)) throw new ConfigError(s.at('tokenFile'), `expected ${file!} to hold one bearer token of 16 to 4096 token68 characters (RFC 6750)`)
      tokenHash = createHash('sha256').update(token, 'utf8').digest()
    }
    const rl = s.get('rateLimit')
    let rateLimit: SubmitterConfig['rateLimit'] = null
    if (rl !== null) {
      const r = Fields.of(s.at('rateLimit'), rl === undefined ? {} : rl)
      rateLimit = { perSecond: r.integer('perSecond', 1, 1_000_000_000, 50), burst: r.integer('burst', 1, 1_000_000_000, 100) }
      r.done()
    }
    s.done()
    return { name: submitter, tokenHash: new Uint8Array(tokenHash), rateLimit }
  })
  const names = list.map((s) => s.name)
  if (new Set(names).size !== names.length) throw new ConfigError(f.at(name), 'expected each submitter name at most once')
  const hashes = list.map((s) => Buffer.from(s.tokenHash).toString('hex'))
  if (new Set(hashes).size !== hashes.length) throw new ConfigError(f.at(name), 'expected a different token for each submitter')
  return list
}

const MULTIADDR = /^(\/[^/\s]+)+$/

function multiaddrs (f: Fields, name: string, fallback: string[]): string[] {
  const list = f.strings(name, fallback)
  for (const [i, a] of list.entries()) {
    if (!MULTIADDR.test(a)) throw new ConfigError(`${f.at(name)}[${i}]`, `expected a multiaddr such as "/ip4/127.0.0.1/tcp/0", got ${describe(a)}`)
  }
  return list
}

/** The federation section; undefined when it has no name (and then it must not have listen addresses). */
function federation (f: Fields, baseDir: string, ownOrigin: string, readFile: ReadFile): FederationConfig | undefined {
  const name = f.optionalString('name')
  const listenValue = f.get('listen')
  if (name === undefined) {
    const listen = multiaddrs(f, 'listen', [])
    if (listen.length > 0) throw new ConfigError(f.at('name'), 'required when federation.listen is not empty')
    // The other fields are still checked, so that a typo does not wait until the federation is turned on.
  } else if (!/^[A-Za-z0-9._-]{1,64}$/.test(name)) {
    throw new ConfigError(f.at('name'), `expected 1 to 64 letters, digits, ".", "_" or "-", got ${describe(name)}`)
  }
  const listen = listenValue === undefined ? ['/ip4/127.0.0.1/tcp/0'] : multiaddrs(f, 'listen', [])
  const bootstrap = multiaddrs(f, 'bootstrap', [])
  for (const [i, a] of bootstrap.entries()) {
    if (!/\/p2p\/[^/]+$/.test(a)) throw new ConfigError(`${f.at('bootstrap')}[${i}]`, `expected a multiaddr ending in /p2p/<peer id>, got ${describe(a)}`)
  }
  const roles = f.strings('roles', ['witness'])
  for (const [i, role] of roles.entries()) {
    if (!(FEDERATION_ROLES as readonly string[]).includes(role)) throw new ConfigError(`${f.at('roles')}[${i}]`, `expected one of ${FEDERATION_ROLES.join(', ')}, got ${describe(role)}`)
  }
  if (new Set(roles).size !== roles.length) throw new ConfigError(f.at('roles'), 'expected each role at most once')
  const trustPolicy = f.get('trustPolicy') === undefined ? undefined : resolve(baseDir, f.string('trustPolicy'))
  const heartbeatMs = f.integer('heartbeatMs', 10, 60_000, 1000)
  const announceMs = f.integer('announceMs', 100, 3_600_000, 10_000)
  const timeoutMs = f.integer('timeoutMs', 100, 120_000, 5000)
  const mirror = f.strings('mirror', [])
  const crossRegister = f.strings('crossRegister', [])
  f.done()
  if (name === undefined) return undefined
  const trust = trustPolicyAt(trustPolicy, readFile)
  for (const [i, origin] of mirror.entries()) {
    if (origin === ownOrigin) throw new ConfigError(`${f.at('mirror')}[${i}]`, 'a node does not mirror its own log')
    if (!trust.knows(origin)) throw new ConfigError(`${f.at('mirror')}[${i}]`, `expected an origin with a "log" line in the trust policy, got ${describe(origin)}`)
  }
  if (new Set(mirror).size !== mirror.length) throw new ConfigError(f.at('mirror'), 'expected each origin at most once')
  if (mirror.length > 0 && !roles.includes('mirror')) throw new ConfigError(f.at('roles'), 'expected "mirror" among the roles when federation.mirror lists origins')
  for (const [i, origin] of crossRegister.entries()) {
    if (!mirror.includes(origin)) throw new ConfigError(`${f.at('crossRegister')}[${i}]`, `expected an origin listed in federation.mirror, got ${describe(origin)}`)
  }
  return { name, listen, bootstrap, trustPolicy, trust, roles: roles as FederationRole[], heartbeatMs, announceMs, timeoutMs, mirror, crossRegister: [...new Set(crossRegister)] }
}

/** Reads and parses the trust policy file (ConfigError naming federation.trustPolicy). */
function trustPolicyAt (file: string | undefined, readFile: ReadFile): TrustPolicy {
  if (file === undefined) return TrustPolicy.parse('quorum none\n')
  let text: Uint8Array
  try {
    text = readFile(file)
  } catch (err) {
    throw new ConfigError('federation.trustPolicy', `cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`)
  }
  try {
    return TrustPolicy.parse(text)
  } catch (err) {
    throw new ConfigError('federation.trustPolicy', `${file}: ${(err as Error).message}`)
  }
}

/** Reads a file the config refers to (the trust policy, token files). */
export type ReadFile = (path: string) => Uint8Array

const NO_FILES: ReadFile = () => { throw new Error('no files were given to parseConfig') }

/**
 * Validates a parsed config object; `baseDir` resolves relative paths. It does no I/O of its own: the
 * files the config refers to are read through `readFile` (loadConfig passes the file system's).
 */
export function parseConfig (value: Json, baseDir: string, readFile: ReadFile = NO_FILES): NodeConfig {
  const root = Fields.of('', value)
  const path = (f: Fields, name: string, fallback?: string): string => resolve(baseDir, f.string(name, fallback))
  const origin = root.string('origin')
  if (/[\s+]/.test(origin)) throw new ConfigError('origin', 'expected a key name (no spaces or "+")')
  const keys = root.object('keys')
  const http = root.object('http')
  const log = root.object('log')
  const fed = federation(root.object('federation'), baseDir, origin, readFile)
  const witnessRole = fed?.roles.includes('witness') === true
  const config: NodeConfig = {
    origin,
    issuer: root.string('issuer', origin),
    sector: root.optionalString('sector'),
    dataDir: path(root, 'dataDir', 'data'),
    keys: {
      log: path(keys, 'log', 'log.key'),
      receipt: path(keys, 'receipt', 'receipt.key'),
      witness: keys.get('witness') === undefined && !witnessRole ? undefined : path(keys, 'witness', 'witness.key'),
      peer: keys.get('peer') === undefined && fed === undefined ? undefined : path(keys, 'peer', 'peer.key'),
      logHead: keys.get('logHead') === undefined ? resolve(dirname(path(keys, 'log', 'log.key')), 'log-head.json') : path(keys, 'logHead'),
    },
    http: {
      host: http.string('host', '127.0.0.1'),
      port: http.integer('port', 0, 65535, 8080),
      publicUrl: http.optionalString('publicUrl'),
      trustedProxies: http.strings('trustedProxies', []).map((p, i) => addressOrNetwork(`${http.at('trustedProxies')}[${i}]`, p)),
      metricsListen: http.get('metricsListen') === undefined ? undefined : listenAddress(http.at('metricsListen'), http.string('metricsListen')),
      submitters: submitters(http, 'submitters', baseDir, readFile),
    },
    log: {
      batchSize: log.integer('batchSize', 1, 65536, 256),
      batchAgeMs: log.integer('batchAgeMs', 0, 60_000, 100),
      maxPending: log.integer('maxPending', 1, 10_000_000, 10_000),
      sync: log.boolean('sync', true),
    },
    limits: limits(root.object('limits')),
    registration: registration(root.object('registration')),
    federation: fed,
  }
  if (config.http.publicUrl !== undefined && !URL.canParse(config.http.publicUrl)) throw new ConfigError('http.publicUrl', `expected an absolute URL, got ${describe(config.http.publicUrl)}`)
  for (const f of [keys, http, log, root]) f.done()
  return config
}

/** Reads and validates a config file (ConfigError for unreadable files and bad JSON too). */
export function loadConfig (file: string): NodeConfig {
  let text: string
  try {
    text = readFileSync(file, 'utf8')
  } catch (err) {
    throw new ConfigError('(file)', `cannot read ${file}: ${(err as Error).message}`)
  }
  let value: Json
  try {
    value = JSON.parse(text)
  } catch (err) {
    throw new ConfigError('(file)', `${file} is not valid JSON: ${(err as Error).message}`)
  }
  return parseConfig(value, dirname(resolve(file)), (path) => readFileSync(path))
}
