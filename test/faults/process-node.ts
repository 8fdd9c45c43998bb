/**
 * Nodes as real processes for the fault suite: a node directory made by `initFederatedDir`
 * (keys 0600, config), run with the real CLI (`packages/node/bin/scitt-node.js start --config` with its shebang's flags,
 * the built code: `npm run test:faults` builds first) on fixed loopback ports picked per run, so that a
 * node keeps its URL and libp2p address across SIGKILLs and restarts. Every process is started here and
 * is ended by `kill`/`stop`; `stopAll` ends whatever is left (after hooks).
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { chmodSync, cpSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { createServer } from 'node:net'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { generateKeyPairFromSeed } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { CONFIG_FILE } from '@scitt/node'
import { initFederatedDir, type NodeKeys } from '../../packages/node/test/federation-helpers.js'
import type { Issuer } from '../../packages/node/test/helpers.js'

const REPO = fileURLToPath(new URL('../../', import.meta.url))
const SCITT_NODE = join(REPO, 'packages/node/bin/scitt-node.js')

const START_TIMEOUT_MS = 30_000
const STOP_TIMEOUT_MS = 20_000

export interface Exit { code: number | null, signal: NodeJS.Signals | null }

export interface CliRun extends Exit { stdout: string, stderr: string }

/** Runs `scitt-node ARGS` to completion (SIGKILLed after `timeoutMs`). */
export function runCli (args: string[], timeoutMs = 30_000): Promise<CliRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(SCITT_NODE, args, { cwd: REPO, stdio: ['ignore', 'pipe', 'pipe'] })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (c: Buffer) => { stdout += c.toString() })
    child.stderr.on('data', (c: Buffer) => { stderr += c.toString() })
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs)
    child.on('error', reject)
    child.on('close', (code, signal) => { clearTimeout(timer); resolve({ code, signal, stdout, stderr }) })
  })
}

/** A loopback TCP port that was free a moment ago (bound on port 0, then released). */
export function freePort (): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number }
      server.close(() => resolve(port))
    })
  })
}

const running = new Set<NodeProcess>()

/** One `scitt-node start` process; its whole stdout and stderr are kept. */
export class NodeProcess {
  readonly child: ChildProcess
  readonly exited: Promise<Exit>
  stdout = ''
  stderr = ''
  /** The fields of the "scitt-node listening" log line. */
  listening: Record<string, unknown> | undefined

  private constructor (configFile: string, extraArgs: string[]) {
    this.child = spawn(SCITT_NODE, ['start', '--config', configFile, ...extraArgs], { cwd: REPO, stdio: ['ignore', 'pipe', 'pipe'] })
    this.exited = new Promise((resolve) => this.child.once('close', (code, signal) => { running.delete(this); resolve({ code, signal }) }))
    running.add(this)
    this.child.stdout!.on('data', (c: Buffer) => { this.stdout += c.toString() })
    this.child.stderr!.on('data', (c: Buffer) => { this.stderr += c.toString() })
  }

  /** Spawns the node; resolves once it logged "scitt-node listening", rejects (and kills it) otherwise. */
  static async start (configFile: string, extraArgs: string[] = []): Promise<NodeProcess> {
    const p = new NodeProcess(configFile, extraArgs)
    const deadline = Date.now() + START_TIMEOUT_MS
    let exit: Exit | undefined
    void p.exited.then((e) => { exit = e })
    while (p.listening === undefined) {
      p.listening = p.#findListening()
      if (p.listening !== undefined) break
      if (exit !== undefined) throw new StartError(`scitt-node exited (${exit.code ?? exit.signal}) before listening: ${p.stderr.trim()}`, p)
      if (Date.now() > deadline) {
        await p.kill()
        throw new StartError(`scitt-node did not listen within ${START_TIMEOUT_MS} ms: ${p.stderr.trim()}`, p)
      }
      await sleep(10)
    }
    return p
  }

  #findListening (): Record<string, unknown> | undefined {
    const at = this.stdout.indexOf('"msg":"scitt-node listening"')
    if (at < 0) return undefined
    const start = this.stdout.lastIndexOf('\n', at) + 1
    const end = this.stdout.indexOf('\n', at)
    return end < 0 ? undefined : JSON.parse(this.stdout.slice(start, end)) as Record<string, unknown>
  }

  get pid (): number {
    return this.child.pid!
  }

  get url (): string {
    return this.listening!.url as string
  }

  /** Sends `signal` and waits for the exit (SIGKILL by default). */
  async kill (signal: NodeJS.Signals = 'SIGKILL'): Promise<Exit> {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill(signal)
    return await this.exited
  }

  /** SIGTERM (a clean stop), SIGKILL if it has not exited within 20 s. */
  async stop (): Promise<Exit> {
    const timer = setTimeout(() => this.child.kill('SIGKILL'), STOP_TIMEOUT_MS)
    try {
      return await this.kill('SIGTERM')
    } finally {
      clearTimeout(timer)
    }
  }

  /** Resident set size of the process in KiB (/proc/PID/status VmRSS); undefined once it is gone. */
  rssKb (): number | undefined {
    try {
      const match = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${this.pid}/status`, 'utf8'))
      return match === null ? undefined : Number(match[1])
    } catch {
      return undefined
    }
  }
}

export class StartError extends Error {
  constructor (message: string, readonly process: NodeProcess) {
    super(message)
  }
}

/** SIGKILLs every node process still running (after hooks; nothing else is touched). */
export async function killAll (): Promise<void> {
  await Promise.all([...running].map(async (p) => await p.kill('SIGKILL')))
}

export interface FederationSetup {
  name: string
  /** The trust policy text (C2SP tlog-policy). */
  policy: string
  heartbeatMs?: number
  announceMs?: number
  /** Origins this node mirrors (it then has the "mirror" role too). */
  mirror?: string[]
}

/**
 * A node directory and the process that runs it. Its HTTP and libp2p ports are fixed for the run
 * (chosen free, re-chosen only when a start finds one taken); `start` rewrites the config with them and
 * with the current addresses of the peers to dial.
 */
export class ProcessNode {
  readonly name: string
  readonly keys: NodeKeys
  readonly dir: string
  readonly configFile: string
  readonly peerId: string
  /** Every process this node ran, in order: their outputs make the node's whole log. */
  readonly runs: NodeProcess[] = []
  httpPort = 0
  p2pPort = 0
  #raw: Record<string, any>
  #federation: FederationSetup | undefined

  private constructor (name: string, keys: NodeKeys, peerId: string, raw: Record<string, any>, federation: FederationSetup | undefined) {
    this.name = name
    this.keys = keys
    this.dir = keys.dir
    this.configFile = join(keys.dir, CONFIG_FILE)
    this.peerId = peerId
    this.#raw = raw
    this.#federation = federation
  }

  /**
   * Creates `root/name` with `initFederatedDir` (the issuer may register), then applies `patch` to its
   * config (log, limits, registration). With `federation`, the node joins it (policy file beside the config).
   */
  static async create (root: string, name: string, origin: string, issuer: Issuer, o: { patch?: (raw: Record<string, any>) => void, federation?: FederationSetup } = {}): Promise<ProcessNode> {
    const keys = initFederatedDir(join(root, name), origin, issuer)
    const raw = JSON.parse(readFileSync(join(keys.dir, CONFIG_FILE), 'utf8')) as Record<string, any>
    o.patch?.(raw)
    return await ProcessNode.#open(name, keys, raw, o.federation)
  }

  static async #open (name: string, keys: NodeKeys, raw: Record<string, any>, federation: FederationSetup | undefined): Promise<ProcessNode> {
    const seed = new Uint8Array(readFileSync(join(keys.dir, 'peer.key')))
    const peerId = peerIdFromPrivateKey(await generateKeyPairFromSeed('Ed25519', seed)).toString()
    const node = new ProcessNode(name, keys, peerId, raw, federation)
    node.httpPort = await freePort()
    node.p2pPort = await freePort()
    return node
  }

  /**
   * A fork of this (stopped) node: its whole directory copied to `root/name` (same log, receipt and
   * witness keys, same data), with a new libp2p peer key so that both can be on the network at once.
   */
  async fork (root: string, name: string, peerSeed: Uint8Array): Promise<ProcessNode> {
    const dir = join(root, name)
    rmSync(dir, { recursive: true, force: true })
    cpSync(this.dir, dir, { recursive: true })
    chmodSync(dir, 0o700)
    rmSync(join(dir, 'peer.key'))
    writeFileSync(join(dir, 'peer.key'), peerSeed, { mode: 0o600 })
    return await ProcessNode.#open(name, { ...this.keys, dir }, structuredClone(this.#raw), this.#federation)
  }

  get process (): NodeProcess | undefined {
    const last = this.runs.at(-1)
    return last !== undefined && last.child.exitCode === null && last.child.signalCode === null ? last : undefined
  }

  get url (): string {
    return `http://127.0.0.1:${this.httpPort}`
  }

  /** The libp2p address peers dial: fixed port and peer id. */
  get multiaddr (): string {
    return `/ip4/127.0.0.1/tcp/${this.p2pPort}/p2p/${this.peerId}`
  }

  /** The node's whole stdout and stderr, over all its runs. */
  output (): string {
    return this.runs.map((r) => r.stdout + r.stderr).join('')
  }

  #writeConfig (bootstrap: ProcessNode[]): void {
    const raw = structuredClone(this.#raw)
    raw.http.port = this.httpPort
    if (this.#federation !== undefined) {
      writeFileSync(join(this.dir, 'trust.policy'), this.#federation.policy)
      raw.federation = {
        name: this.#federation.name,
        listen: [`/ip4/127.0.0.1/tcp/${this.p2pPort}`],
        bootstrap: bootstrap.filter((n) => n !== this).map((n) => n.multiaddr),
        trustPolicy: 'trust.policy',
        roles: this.#federation.mirror === undefined ? ['witness'] : ['witness', 'mirror'],
        ...(this.#federation.mirror === undefined ? {} : { mirror: this.#federation.mirror }),
        heartbeatMs: this.#federation.heartbeatMs ?? 200,
        announceMs: this.#federation.announceMs ?? 1000,
        timeoutMs: 3000,
      }
    }
    writeFileSync(this.configFile, JSON.stringify(raw))
  }

  /** Starts the node, dialling `bootstrap` (their current addresses); a port found taken is re-chosen (3 tries). */
  async start (o: { bootstrap?: ProcessNode[], args?: string[] } = {}): Promise<NodeProcess> {
    for (let attempt = 1; ; attempt++) {
      this.#writeConfig(o.bootstrap ?? [])
      try {
        const p = await NodeProcess.start(this.configFile, o.args)
        this.runs.push(p)
        if (p.url !== this.url) throw new Error(`${this.name} listens on ${p.url}, expected ${this.url}`)
        return p
      } catch (err) {
        if (err instanceof StartError) this.runs.push(err.process)
        if (!(err instanceof StartError) || !/EADDRINUSE/.test(err.message) || attempt === 3) throw err
        this.httpPort = await freePort()
        this.p2pPort = await freePort()
      }
    }
  }

  /** SIGKILLs the running process (if any) and waits for it to be gone. */
  async kill (): Promise<void> {
    await this.process?.kill('SIGKILL')
  }

  /** Stops the running process cleanly (SIGTERM); resolves with its exit. */
  async stop (): Promise<Exit | undefined> {
    return await this.process?.stop()
  }

  /** `scitt-node fsck` on the node directory (the node must not be running: LevelDB is locked). */
  async fsck (): Promise<CliRun> {
    return await runCli(['fsck', '--dir', this.dir, '--config', this.configFile])
  }
}

export function sleep (ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms))
}
