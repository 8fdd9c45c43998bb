/**
 * Federation over libp2p: 20 and then 100 nodes in this process on loopback (real TCP,
 * Noise, Yamux, gossipsub with its mesh defaults; each node a Federation over its own memory-level Log,
 * not a whole ScittNode). Each node is bootstrapped to at most three earlier nodes; from there the
 * directory dials the peers it learns from their announces, as in a real federation. Sampled one
 * checkpoint at a time (100 samples: p99 is the second slowest, not the slowest):
 * - the time from a checkpoint of one log to its arrival at every other node (p50 / p99);
 * - the time from integration to a checkpoint cosigned by a 2-of-3 witness quorum (p50 / p99);
 * - the CPU time (this process's, every thread) and the bytes sent (written to every TCP socket of the
 *   process: all libp2p traffic with its Noise and Yamux framing, gossip and witness requests) per node
 *   per checkpoint, less what the same federation spends idle (heartbeats, re-announces) over as long.
 * Baselines, measured in the same run: one Ed25519 cosignature (sign + verify) with node:crypto, and one
 * Ed25519 verify, in which the CPU per node per checkpoint is also given.
 * Targets: propagation p99 ≤ 500 ms; quorum p99 ≤ 1 s.
 */
import '../src/p2p/polyfill.js'
import { subscribe, unsubscribe } from 'node:diagnostics_channel'
import type { Socket } from 'node:net'
import { cpus, loadavg } from 'node:os'
import { MemoryLevel } from 'memory-level'
import {
  cosignatureSigner, ed25519NoteSigner, ed25519NoteVerifier, formatVkey, receiptProtectedHeader, sha256Digest, utf8,
  NOTE_KEY_TYPE_COSIGNATURE_V1,
} from '@scitt/core'
import { nodeSignatures, useNodeSha256 } from '@scitt/node-crypto'
import { Log } from '@scitt/log'
import { Federation, HeldLogs, TrustPolicy, createLogger, silentLogger } from '@scitt/node'
import { percentile, type Bench } from '../../../scripts/bench-lib.js'

/** Federation sizes measured (SIZES=20,100 by default). */
const SIZES = (process.env.SIZES ?? '20,100').split(',').map(Number)
const SAMPLES = Number(process.env.SAMPLES ?? 100)
const NAME = 'bench'
const HEARTBEAT_MS = Number(process.env.HB ?? 1000)
/** Earlier nodes each node is bootstrapped to. */
const BOOTSTRAP_PEERS = 3
/** The idle window the per-checkpoint costs are corrected by. */
const IDLE_MS = 5000
const VERIFY = 'Ed25519 verify (one note signature), node:crypto'

/** Peers in the node's gossipsub mesh for the topic (a runtime method that GossipSub's type leaves out). */
function meshPeers (f: Federation, topic: string): number {
  return (f.network.services.pubsub as unknown as { getMeshPeers: (t: string) => string[] }).getMeshPeers(topic).length
}

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

/** A deterministic choice of up to `count` distinct earlier nodes for node i (always including i − 1). */
function bootstrapOf (i: number, count: number): number[] {
  const chosen = new Set<number>(i === 0 ? [] : [i - 1])
  let x = i * 2654435761 >>> 0
  for (let tries = 0; chosen.size < Math.min(count, i) && tries < 64; tries++) {
    x = (x * 1103515245 + 12345) >>> 0
    chosen.add(x % i)
  }
  return [...chosen]
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
    for (const nodes of SIZES) await federation(bench, nodes, seed, bytes)
  } finally {
    bytes.stop()
  }
}

async function federation (bench: Bench, NODES: number, seed: (label: string) => Uint8Array, bytes: TcpBytes): Promise<void> {
  const specs = Array.from({ length: NODES }, (_, i) => {
    const origin = `n${i}.bench.example/log`
    const logKey = seed(`log ${i}`)
    const witnessKey = seed(`witness ${i}`)
    const witnessName = `${origin}/witness`
    return {
      origin,
      logKey,
      logVerifier: ed25519NoteVerifier(origin, nodeSignatures.signer('Ed25519', logKey).publicKey, nodeSignatures),
      witnessName,
      witnessKey,
      witnessVkey: formatVkey(witnessName, NOTE_KEY_TYPE_COSIGNATURE_V1, nodeSignatures.signer('Ed25519', witnessKey).publicKey),
    }
  })
  const witnesses = [1, 2, 3]
  const policy = [
    ...specs.map((s) => `log ${formatVkey(s.origin, 0x01, nodeSignatures.signer('Ed25519', s.logKey).publicKey)}`),
    ...witnesses.map((i) => `witness w${i} ${specs[i]!.witnessVkey}`),
    `group q 2 ${witnesses.map((i) => `w${i}`).join(' ')}`,
    'quorum q',
    '',
  ].join('\n')

  const receiptKey = nodeSignatures.signer('ES256', nodeSignatures.generateSecretKey('ES256'))
  const receiptProtected = receiptProtectedHeader({ alg: 'ES256', kid: new Uint8Array(8), iss: 'bench' })
  const started: Array<{ log: Log, federation: Federation, db: MemoryLevel<Uint8Array, Uint8Array> }> = []
  const startedAt = performance.now()
  try {
    for (const [i, s] of specs.entries()) {
      const db = new MemoryLevel<Uint8Array, Uint8Array>({ keyEncoding: 'view', valueEncoding: 'view' })
      const log = await Log.open({
        db: db, origin: s.origin, logSigner: ed25519NoteSigner(s.origin, s.logKey, nodeSignatures),
        receiptSigner: receiptKey, receiptProtected, batchAgeMs: 0, sync: false, tileCacheBytes: 1 << 20,
      })
      const federation = await Federation.start({
        name: NAME,
        log,
        logSigner: ed25519NoteSigner(s.origin, s.logKey, nodeSignatures),
        logVerifier: s.logVerifier,
        ...(witnesses.includes(i) ? { witnessSigner: cosignatureSigner(s.witnessName, s.witnessKey, () => Math.floor(Date.now() / 1000), nodeSignatures), witnessVkey: s.witnessVkey } : {}),
        trust: TrustPolicy.parse(policy),
        db: db.sublevel<string, Uint8Array>('federation', { keyEncoding: 'utf8', valueEncoding: 'view' }),
        held: new HeldLogs([s.origin]),
        peerSeed: seed(`peer ${i}`),
        listen: ['/ip4/127.0.0.1/tcp/0'],
        bootstrap: bootstrapOf(i, BOOTSTRAP_PEERS).flatMap((j) => started[j]!.federation.multiaddrs),
        roles: witnesses.includes(i) ? ['witness'] : ['sector'],
        logger: process.env.LOG !== undefined && i === 50 ? createLogger({ level: process.env.LOG }) : silentLogger(),
        heartbeatMs: HEARTBEAT_MS,
        announceMs: 10_000,
        timeoutMs: 3000,
      })
      started.push({ log, federation, db })
    }
    const origin = started[0]!
    const others = started.slice(1)
    const topic = origin.federation.topics.checkpoints
    const meshes = (): string => {
      const m = started.map((n) => meshPeers(n.federation, topic)).sort((a, b) => a - b)
      const c = started.map((n) => n.federation.network.getConnections().length).sort((a, b) => a - b)
      const t = started.map((n) => n.federation.network.services.pubsub.getSubscribers(topic).length).sort((a, b) => a - b)
      return `mesh sizes ${m[0]}–${m.at(-1)}, ${m.filter((x) => x < 4).length} nodes below 4; connections ${c[0]}–${c.at(-1)}; topic peers ${t[0]}–${t.at(-1)}`
    }
    // Every node meshed with Dlo = 4 peers, or with every topic peer it has when it has fewer (at least 3).
    const meshed = (n: { federation: Federation }): boolean => {
      const peers = n.federation.network.services.pubsub.getSubscribers(topic).length
      return peers >= 3 && meshPeers(n.federation, topic) >= Math.min(4, peers)
    }
    await until(() => started.every(meshed), 30_000 + NODES * 300, 'gossip mesh (Dlo = 4 peers each, or all topic peers)', meshes)
    await until(() => {
      const announced = (origin.federation.statusJson() as { announced: Array<{ witness: string | null }> }).announced
      return witnesses.every((i) => announced.some((d) => d.witness === specs[i]!.witnessVkey))
    }, 30_000, 'witness descriptors')
    // The directory dials the peers it learns: wait until the connections stop changing (1 s) before measuring.
    const connections = (): number => started.reduce((n, s) => n + s.federation.network.getConnections().length, 0)
    let stable = { count: connections(), since: Date.now() }
    await until(() => {
      const count = connections()
      if (count !== stable.count) stable = { count, since: Date.now() }
      return Date.now() - stable.since >= 1000
    }, 60_000, 'connections to settle')
    const ready = performance.now()

    const idleStart = usage(bytes)
    await sleep(IDLE_MS)
    const idleEnd = usage(bytes)

    const propagation: number[] = []
    const quorum: number[] = []
    let window = idleEnd
    for (let k = 0; k < SAMPLES + 3; k++) {
      if (k === 3) window = usage(bytes) // the first few warm up streams and caches
      let integratedAt = 0
      let size = 0
      const checkpointed = new Promise<void>((resolve) => {
        const off = origin.log.onCheckpoint((cp) => { integratedAt = performance.now(); size = cp.size; off(); resolve() })
      })
      let quorumAt = 0
      const offQuorum = origin.federation.on((e) => { if (e.type === 'quorum' && e.size === size && quorumAt === 0) quorumAt = performance.now() })
      const seenAt = new Map<Federation, number>()
      const offs = others.map((n) => n.federation.on((e) => {
        if (e.type === 'head' && e.origin === specs[0]!.origin && e.size === size && !seenAt.has(n.federation)) seenAt.set(n.federation, performance.now())
      }))
      await origin.log.add(utf8(`bench entry ${k} ${Date.now()}`))
      await checkpointed
      await until(() => seenAt.size === others.length && quorumAt !== 0, 10_000, `checkpoint ${size} everywhere and cosigned`)
      offQuorum()
      for (const off of offs) off()
      if (k >= 3) {
        propagation.push(Math.max(...seenAt.values()) - integratedAt)
        quorum.push(quorumAt - integratedAt)
      }
      await sleep(50)
    }
    const end = usage(bytes)
    const idleMs = idleEnd.at - idleStart.at
    const windowMs = end.at - window.at
    const perNodeCheckpoint = (total: number, idle: number): number => (total - idle * (windowMs / idleMs)) / NODES / SAMPLES
    const cpu = perNodeCheckpoint(end.cpu - window.cpu, idleEnd.cpu - idleStart.cpu)
    const sent = perNodeCheckpoint(end.bytes - window.bytes, idleEnd.bytes - idleStart.bytes)
    const idleCpu = (idleEnd.cpu - idleStart.cpu) / NODES / (idleMs / 1000)
    const idleBytes = (idleEnd.bytes - idleStart.bytes) / NODES / (idleMs / 1000)

    propagation.sort((a, b) => a - b)
    quorum.sort((a, b) => a - b)
    const perNode = started.map((n) => n.federation.network.getConnections().length).sort((a, b) => a - b)
    const mesh = started.map((n) => meshPeers(n.federation, topic)).sort((a, b) => a - b)
    const topology = `connections per node ${perNode[0]}–${perNode.at(-1)} (median ${percentile(perNode, 50)}), gossipsub mesh ${mesh[0]}–${mesh.at(-1)}`
    const note = `${NODES} Federations over memory-level logs in one process, ${cpus().length} cores, load ${loadavg()[0]!.toFixed(2)}, ${SAMPLES} checkpoints one at a time, heartbeat ${HEARTBEAT_MS} ms; ${topology}; started in ${((ready - startedAt) / 1000).toFixed(1)} s`
    const idle = `less idle: ${Math.round(idleCpu)} µs CPU and ${Math.round(idleBytes)} B sent per node per s over ${IDLE_MS / 1000} s`
    bench.record(`checkpoint to all ${NODES} nodes p50`, percentile(propagation, 50), 'ms', { note })
    bench.record(`checkpoint to all ${NODES} nodes p99`, percentile(propagation, 99), 'ms', { target: '≤ 500 ms' })
    bench.record(`integration → 2-of-3 cosigned checkpoint p50, ${NODES} nodes`, percentile(quorum, 50), 'ms', { note: 'witnesses reached over libp2p add-checkpoint' })
    bench.record(`integration → 2-of-3 cosigned checkpoint p99, ${NODES} nodes`, percentile(quorum, 99), 'ms', { target: '≤ 1000 ms' })
    bench.record(`CPU per node per checkpoint, ${NODES} nodes`, cpu, 'µs', { baseline: VERIFY, note: idle })
    bench.record(`bytes sent per node per checkpoint, ${NODES} nodes`, sent, 'B', { note: idle })
  } finally {
    for (const n of started.reverse()) {
      await n.federation.stop().catch(() => {})
      await n.log.close().catch(() => {})
      await n.db.close().catch(() => {})
    }
  }
}
