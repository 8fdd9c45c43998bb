/**
 * Federation over libp2p: 20 and then 100 nodes on loopback (real TCP, Noise, Yamux, gossipsub with
 * its mesh defaults; each node a Federation over its own memory-level Log, not a whole ScittNode;
 * federation-nodes.ts). Up to IN_PROCESS nodes run in this process; a larger federation is split over
 * WORKERS processes (federation-worker.ts), one per core, that this process drives and that report
 * arrival times on the machine's clock. Each node is bootstrapped to at most three earlier nodes; from
 * there the directory dials the peers it learns from their announces, as in a real federation. Sampled
 * one checkpoint at a time (100 samples: p99 is the second slowest, not the slowest):
 * - the time from a checkpoint of one log to its arrival at every other node (p50 / p99);
 * - the time from integration to a checkpoint cosigned by a 2-of-3 witness quorum (p50 / p99);
 * - the CPU time (of the processes holding the nodes, every thread) and the bytes sent (written to every
 *   TCP socket of those processes: all libp2p traffic with its Noise and Yamux framing, gossip and
 *   witness requests) per node per checkpoint, less what the same federation spends idle (heartbeats,
 *   re-announces) over as long.
 * Baselines, measured in the same run: one Ed25519 cosignature (sign + verify) with node:crypto, and one
 * Ed25519 verify, in which the CPU per node per checkpoint is also given.
 * Targets: propagation p99 ≤ 500 ms; quorum p99 ≤ 1 s.
 */
import '../src/p2p/polyfill.js'
import { spawn, type ChildProcess } from 'node:child_process'
import { subscribe, unsubscribe } from 'node:diagnostics_channel'
import type { Socket } from 'node:net'
import { cpus, loadavg } from 'node:os'
import { fileURLToPath } from 'node:url'
import { sha256Digest, utf8 } from '@scitt/core'
import { nodeSignatures, useNodeSha256 } from '@scitt/node-crypto'
import { TrustPolicy, type Federation } from '@scitt/node'
import { percentile, type Bench } from '../../../scripts/bench-lib.js'
import { bootstrapOf, meshPeers, meshed, originOf, policyText, startNode, stopNode, witnessVkey, WITNESSES, type BenchNode } from './federation-nodes.js'
import type { WorkerRequest, WorkerState } from './federation-worker.js'

/** Federation sizes measured (SIZES=20,100 by default). */
const SIZES = (process.env.SIZES ?? '20,100').split(',').map(Number)
const SAMPLES = Number(process.env.SAMPLES ?? 100)
const HEARTBEAT_MS = Number(process.env.HB ?? 1000)
/** The re-announce period (federation.announceMs, the default); ANNOUNCE env for the larger federations. */
const ANNOUNCE_MS = 10_000
const LARGE_ANNOUNCE_MS = Number(process.env.ANNOUNCE ?? ANNOUNCE_MS)
/** The most nodes run in this process; larger federations are split over WORKERS processes. */
const IN_PROCESS = 50
const WORKERS = Math.max(2, Number(process.env.WORKERS ?? cpus().length))
/** The idle window the per-checkpoint costs are corrected by. */
const IDLE_MS = 5000
const VERIFY = 'Ed25519 verify (one note signature), node:crypto'

async function until (check: () => boolean, ms: number, what: string, state?: () => string): Promise<void> {
  const deadline = Date.now() + ms
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}${state === undefined ? '' : ` (${state()})`}`)
    await new Promise((resolve) => setTimeout(resolve, 10))
  }
}

const sleep = async (ms: number): Promise<void> => { await new Promise((resolve) => setTimeout(resolve, ms)) }

/**
 * Bytes written to the TCP sockets of this process, through node:net's diagnostics channels. Both ends
 * of every loopback connection are in this process, so it is what the nodes sent to each other.
 */
class TcpBytes {
  readonly #open = new Set<Socket>()
  #closed = 0
  readonly #add = (message: unknown): void => {
    const socket = (message as { socket: Socket }).socket
    this.#open.add(socket)
    socket.once('close', () => { this.#closed += socket.bytesWritten; this.#open.delete(socket) })
  }

  start (): void {
    subscribe('net.client.socket', this.#add)
    subscribe('net.server.socket', this.#add)
  }

  stop (): void {
    unsubscribe('net.client.socket', this.#add)
    unsubscribe('net.server.socket', this.#add)
  }

  get written (): number {
    let n = this.#closed
    for (const s of this.#open) n += s.bytesWritten
    return n
  }
}

/** CPU time (µs, user + system, every thread of the process) and TCP bytes written so far. */
function usage (bytes: TcpBytes): { cpu: number, bytes: number, at: number } {
  const { user, system } = process.cpuUsage()
  return { cpu: user + system, bytes: bytes.written, at: performance.now() }
}

export default async function (bench: Bench): Promise<void> {
  useNodeSha256()
  const seed = (label: string): Uint8Array => sha256Digest(utf8(`federation bench ${label}`))

  // Baselines: the cryptographic work of one cosignature (the witness signs, the log verifies), and of one verify.
  const signer = nodeSignatures.signer('Ed25519', seed('baseline'))
  const text = utf8('bench.example/log\n1\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n')
  const verifier = nodeSignatures.verifier('Ed25519', signer.publicKey)
  bench.rateSync('Ed25519 sign + verify (one cosignature), node:crypto', () => verifier.verify(text, signer.sign(text)), { minMs: 500 })
  const signature = signer.sign(text)
  let verifies = 0
  const verifyStart = performance.now()
  while (performance.now() - verifyStart < 500 && verifies < 1_000_000) {
    for (let i = 0; i < 16; i++) verifier.verify(text, signature)
    verifies += 16
  }
  bench.record(VERIFY, ((performance.now() - verifyStart) * 1000) / verifies, 'µs')

  const bytes = new TcpBytes()
  bytes.start()
  try {
    for (const nodes of SIZES) {
      const cluster = nodes <= IN_PROCESS ? await InProcess.start(nodes, bytes) : await Processes.start(nodes, Math.min(WORKERS, nodes))
      try {
        await measure(bench, cluster)
      } catch (err) {
        if (nodes <= IN_PROCESS) throw err
        // The larger federation may not converge on this machine: say so in the table instead of losing the run.
        bench.record(`checkpoint to all ${nodes} nodes p99`, NaN, 'ms', { target: '≤ 500 ms', note: `not measured, ${cluster.where}: ${(err as Error).message}` })
      } finally {
        await cluster.stop()
      }
    }
  } finally {
    bytes.stop()
  }
}

/** One checkpoint of node 0: when it was out, when it had reached every other node, when it was cosigned by the quorum (ms, the machine's clock). */
interface Sample { integratedAt: number, everywhereAt: number, quorumAt: number }

/** The nodes of one federation, wherever they run. */
interface Cluster {
  readonly nodes: number
  readonly startedMs: number
  readonly where: string
  readonly announceMs: number
  /** Per node, in node order within each process. */
  state: () => Promise<WorkerState>
  /** CPU (µs) and TCP bytes written so far by the processes holding the nodes. */
  usage: () => Promise<{ cpu: number, bytes: number, at: number }>
  sample: (k: number) => Promise<Sample>
  stop: () => Promise<void>
}

const clock = (): number => performance.timeOrigin + performance.now()

/** Every node in this process. */
class InProcess implements Cluster {
  readonly where = 'in one process'
  readonly announceMs = ANNOUNCE_MS
  startedMs = 0

  private constructor (readonly nodes: number, readonly started: BenchNode[], readonly bytes: TcpBytes) {}

  static async start (nodes: number, bytes: TcpBytes): Promise<InProcess> {
    const startedAt = performance.now()
    const policy = TrustPolicy.parse(policyText(nodes))
    const cluster = new InProcess(nodes, [], bytes)
    try {
      for (let i = 0; i < nodes; i++) {
        cluster.started.push(await startNode(i, policy, bootstrapOf(i).flatMap((j) => cluster.started[j]!.federation.multiaddrs), {
          heartbeatMs: HEARTBEAT_MS, announceMs: ANNOUNCE_MS, ...(process.env.LOG === undefined ? {} : { logNode: { index: Math.floor(nodes / 2), level: process.env.LOG } }),
        }))
      }
    } catch (err) {
      await cluster.stop()
      throw err
    }
    cluster.startedMs = performance.now() - startedAt
    return cluster
  }

  async state (): Promise<WorkerState> {
    const topic = this.started[0]!.federation.topics.checkpoints
    const announced = (this.started[0]!.federation.statusJson() as { announced: Array<{ witness: string | null }> }).announced
    return {
      mesh: this.started.map((n) => meshPeers(n.federation, topic)),
      connections: this.started.map((n) => n.federation.network.getConnections().length),
      topicPeers: this.started.map((n) => n.federation.network.services.pubsub.getSubscribers(topic).length),
      meshed: this.started.every((n) => meshed(n.federation, topic)),
      witnessesKnown: WITNESSES.every((i) => announced.some((d) => d.witness === witnessVkey(i))),
    }
  }

  async usage (): Promise<{ cpu: number, bytes: number, at: number }> {
    return usage(this.bytes)
  }

  async sample (k: number): Promise<Sample> {
    const origin = this.started[0]!
    let integratedAt = 0
    let size = 0
    const checkpointed = new Promise<void>((resolve) => {
      const off = origin.log.onCheckpoint((cp) => { integratedAt = clock(); size = cp.size; off(); resolve() })
    })
    let quorumAt = 0
    const offQuorum = origin.federation.on((e) => { if (e.type === 'quorum' && e.size === size && quorumAt === 0) quorumAt = clock() })
    const seenAt = new Map<Federation, number>()
    const others = this.started.slice(1)
    const offs = others.map((n) => n.federation.on((e) => {
      if (e.type === 'head' && e.origin === originOf(0) && e.size === size && !seenAt.has(n.federation)) seenAt.set(n.federation, clock())
    }))
    try {
      await origin.log.add(utf8(`bench entry ${k} ${Date.now()}`))
      await checkpointed
      await until(() => seenAt.size === others.length && quorumAt !== 0, 10_000, `checkpoint ${size} everywhere and cosigned`)
    } finally {
      offQuorum()
      for (const off of offs) off()
    }
    return { integratedAt, everywhereAt: Math.max(...seenAt.values()), quorumAt }
  }

  async stop (): Promise<void> {
    for (const n of [...this.started].reverse()) await stopNode(n)
  }
}

/** The nodes split over child processes (federation-worker.ts), node i in process ⌊i / ⌈n / workers⌉⌋. */
class Processes implements Cluster {
  readonly announceMs = LARGE_ANNOUNCE_MS
  startedMs = 0

  private constructor (readonly nodes: number, readonly workers: Worker[]) {}

  get where (): string {
    return `over ${this.workers.length} processes of ${Math.ceil(this.nodes / this.workers.length)}`
  }

  static async start (nodes: number, count: number): Promise<Processes> {
    const startedAt = performance.now()
    const per = Math.ceil(nodes / count)
    const cluster = new Processes(nodes, Array.from({ length: count }, () => new Worker()))
    try {
      // Each process starts its nodes once the earlier nodes they are bootstrapped to listen.
      const addrs: Record<number, string[]> = {}
      for (const [w, worker] of cluster.workers.entries()) {
        const indices = Array.from({ length: Math.min(per, nodes - w * per) }, (_, k) => w * per + k)
        // Bootstrap peers in earlier processes by address; those in the same process it adds itself.
        const bootstrap = Object.fromEntries(indices.map((i) => [i, bootstrapOf(i).filter((j) => j < w * per).flatMap((j) => addrs[j]!)]))
        const started = await worker.ask<{ addrs: Record<number, string[]> }>({ type: 'start', nodes, indices, bootstrap, heartbeatMs: HEARTBEAT_MS, announceMs: LARGE_ANNOUNCE_MS }, 60_000 + per * 2000)
        Object.assign(addrs, started.addrs)
      }
    } catch (err) {
      await cluster.stop()
      throw err
    }
    cluster.startedMs = performance.now() - startedAt
    return cluster
  }

  async state (): Promise<WorkerState> {
    const states = await Promise.all(this.workers.map(async (w) => await w.ask<WorkerState>({ type: 'state' })))
    return {
      mesh: states.flatMap((s) => s.mesh),
      connections: states.flatMap((s) => s.connections),
      topicPeers: states.flatMap((s) => s.topicPeers),
      meshed: states.every((s) => s.meshed),
      witnessesKnown: states.every((s) => s.witnessesKnown),
    }
  }

  async usage (): Promise<{ cpu: number, bytes: number, at: number }> {
    const all = await Promise.all(this.workers.map(async (w) => await w.ask<{ cpu: number, bytes: number, at: number }>({ type: 'usage' })))
    return { cpu: all.reduce((n, u) => n + u.cpu, 0), bytes: all.reduce((n, u) => n + u.bytes, 0), at: clock() }
  }

  async sample (k: number): Promise<Sample> {
    const zero = this.workers[0]!
    // The size node 0's next checkpoint will have: one entry per sample so far, checkpointed one at a time.
    const size = k + 1
    await Promise.all(this.workers.map(async (w) => await w.ask({ type: 'expect', size })))
    const out = await zero.ask<{ size: number, at: number }>({ type: 'add', label: `bench entry ${k} ${Date.now()}` })
    if (out.size !== size) throw new Error(`node 0 checkpointed size ${out.size}, expected ${size}`)
    const arrivals = await Promise.all(this.workers.map(async (w) => await w.ask<{ arrived: number, of: number, last: number, quorumAt: number | null }>({ type: 'arrivals' }, 15_000)))
    const missing = arrivals.reduce((n, a) => n + a.of - a.arrived, 0)
    const quorumAt = arrivals[0]!.quorumAt
    if (missing > 0 || quorumAt === null) throw new Error(`checkpoint ${size}: ${missing} nodes without it after 10 s${quorumAt === null ? ', no quorum' : ''}`)
    return { integratedAt: out.at, everywhereAt: Math.max(...arrivals.map((a) => a.last)), quorumAt }
  }

  async stop (): Promise<void> {
    await Promise.all(this.workers.map(async (w) => { await w.ask({ type: 'stop' }, 30_000).catch(() => {}); await w.close() }))
  }
}

/** A child process running federation-worker.ts, asked one request at a time. */
class Worker {
  readonly #child: ChildProcess
  readonly #exited: Promise<void>
  #pending: { resolve: (answer: unknown) => void, reject: (err: Error) => void } | undefined

  constructor () {
    this.#child = spawn(process.execPath, [...process.execArgv, fileURLToPath(new URL('./federation-worker.ts', import.meta.url))],
      { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] })
    this.#child.on('message', (m: { ok: boolean, answer?: unknown, error?: string }) => {
      const p = this.#pending
      this.#pending = undefined
      if (m.ok) p?.resolve(m.answer)
      else p?.reject(new Error(`bench worker: ${m.error}`))
    })
    this.#exited = new Promise((resolve) => this.#child.once('exit', (code) => {
      this.#pending?.reject(new Error(`bench worker exited (${code})`))
      this.#pending = undefined
      resolve()
    }))
  }

  async ask<T = unknown> (request: WorkerRequest, ms = 10_000): Promise<T> {
    if (this.#pending !== undefined) throw new Error('bench worker: one request at a time')
    let timer: ReturnType<typeof setTimeout> | undefined
    try {
      return await new Promise<T>((resolve, reject) => {
        this.#pending = { resolve: resolve as (answer: unknown) => void, reject }
        timer = setTimeout(() => { this.#pending = undefined; reject(new Error(`bench worker: no answer to ${request.type} in ${ms} ms`)) }, ms)
        this.#child.send(request)
      })
    } finally {
      clearTimeout(timer)
    }
  }

  async close (): Promise<void> {
    if (this.#child.exitCode === null && this.#child.signalCode === null) {
      this.#child.disconnect()
      const killer = setTimeout(() => this.#child.kill('SIGKILL'), 10_000)
      await this.#exited
      clearTimeout(killer)
    }
  }
}

async function measure (bench: Bench, cluster: Cluster): Promise<void> {
  const NODES = cluster.nodes
  let state = await cluster.state()
  const poll = async (ms: number, what: string, done: (s: WorkerState) => boolean): Promise<void> => {
    const deadline = Date.now() + ms
    for (state = await cluster.state(); !done(state); state = await cluster.state()) {
      if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what} (${describe(state)})`)
      await sleep(100)
    }
  }
  const describe = (s: WorkerState): string => {
    const m = [...s.mesh].sort((a, b) => a - b)
    const c = [...s.connections].sort((a, b) => a - b)
    const t = [...s.topicPeers].sort((a, b) => a - b)
    return `mesh sizes ${m[0]}–${m.at(-1)}, ${m.filter((x) => x < 4).length} nodes below 4; connections ${c[0]}–${c.at(-1)}; topic peers ${t[0]}–${t.at(-1)}`
  }
  const waitStart = performance.now()
  // Every node meshed with Dlo = 4 peers, or with every topic peer it has when it has fewer (at least 3).
  await poll(30_000 + NODES * 300, 'gossip mesh (Dlo = 4 peers each, or all topic peers)', (s) => s.meshed)
  await poll(30_000, 'witness descriptors', (s) => s.witnessesKnown)
  // The directory dials the peers it learns: wait until the connections stop changing (1 s) before measuring.
  const total = (s: WorkerState): number => s.connections.reduce((a, b) => a + b, 0)
  let stable = { count: total(state), since: Date.now() }
  await poll(60_000, 'connections to settle', (s) => {
    if (total(s) !== stable.count) stable = { count: total(s), since: Date.now() }
    return Date.now() - stable.since >= 1000
  })
  const readyMs = cluster.startedMs + (performance.now() - waitStart)

  const idleStart = await cluster.usage()
  await sleep(IDLE_MS)
  const idleEnd = await cluster.usage()

  const propagation: number[] = []
  const quorum: number[] = []
  let window = idleEnd
  for (let k = 0; k < SAMPLES + 3; k++) {
    if (k === 3) window = await cluster.usage() // the first few warm up streams and caches
    const s = await cluster.sample(k)
    if (k >= 3) {
      propagation.push(s.everywhereAt - s.integratedAt)
      quorum.push(s.quorumAt - s.integratedAt)
    }
    await sleep(50)
  }
  const end = await cluster.usage()
  const idleMs = idleEnd.at - idleStart.at
  const windowMs = end.at - window.at
  const perNodeCheckpoint = (used: number, idle: number): number => (used - idle * (windowMs / idleMs)) / NODES / SAMPLES
  const cpu = perNodeCheckpoint(end.cpu - window.cpu, idleEnd.cpu - idleStart.cpu)
  const sent = perNodeCheckpoint(end.bytes - window.bytes, idleEnd.bytes - idleStart.bytes)
  const idleCpu = (idleEnd.cpu - idleStart.cpu) / NODES / (idleMs / 1000)
  const idleBytes = (idleEnd.bytes - idleStart.bytes) / NODES / (idleMs / 1000)

  propagation.sort((a, b) => a - b)
  quorum.sort((a, b) => a - b)
  state = await cluster.state()
  const perNode = [...state.connections].sort((a, b) => a - b)
  const mesh = [...state.mesh].sort((a, b) => a - b)
  const topology = `connections per node ${perNode[0]}–${perNode.at(-1)} (median ${percentile(perNode, 50)}), gossipsub mesh ${mesh[0]}–${mesh.at(-1)}`
  const note = `${NODES} Federations over memory-level logs ${cluster.where}, ${cpus().length} cores, load ${loadavg()[0]!.toFixed(2)}, ${SAMPLES} checkpoints one at a time, heartbeat ${HEARTBEAT_MS} ms, announce ${cluster.announceMs / 1000} s; ${topology}; started in ${(readyMs / 1000).toFixed(1)} s`
  const idle = `less idle: ${Math.round(idleCpu)} µs CPU and ${Math.round(idleBytes)} B sent per node per s over ${IDLE_MS / 1000} s`
  bench.record(`checkpoint to all ${NODES} nodes p50`, percentile(propagation, 50), 'ms', { note })
  bench.record(`checkpoint to all ${NODES} nodes p99`, percentile(propagation, 99), 'ms', { target: '≤ 500 ms' })
  bench.record(`integration → 2-of-3 cosigned checkpoint p50, ${NODES} nodes`, percentile(quorum, 50), 'ms', { note: 'witnesses reached over libp2p add-checkpoint' })
  bench.record(`integration → 2-of-3 cosigned checkpoint p99, ${NODES} nodes`, percentile(quorum, 99), 'ms', { target: '≤ 1000 ms' })
  bench.record(`CPU per node per checkpoint, ${NODES} nodes`, cpu, 'µs', { baseline: VERIFY, note: idle })
  bench.record(`bytes sent per node per checkpoint, ${NODES} nodes`, sent, 'B', { note: idle })
}
