/**
 * Federation over libp2p (issue #5), 20 nodes in this process on loopback (real TCP, Noise, Yamux,
 * gossipsub; each node a Federation over its own memory-level Log): the time from a checkpoint of one
 * log to its arrival at every other node (p50 / p99), and the time from integration to a checkpoint
 * cosigned by a 2-of-3 witness quorum (p50 / p99), sampled one checkpoint at a time (100 samples: p99
 * is the second slowest, not the slowest). Baseline: one
 * Ed25519 cosignature (sign + verify) with node:crypto, measured in the same run.
 * Targets (issue #5): propagation p99 ≤ 500 ms; quorum p99 ≤ 1 s.
 */
import '../src/p2p/polyfill.js'
import { cpus, loadavg } from 'node:os'
import { MemoryLevel } from 'memory-level'
import {
  cosignatureSigner, ed25519NoteSigner, ed25519NoteVerifier, formatVkey, receiptProtectedHeader, sha256Digest, utf8,
  NOTE_KEY_TYPE_COSIGNATURE_V1,
} from '@scitt/core'
import { nodeSignatures, useNodeSha256 } from '@scitt/node-crypto'
import { Log, type LogDatabase } from '@scitt/log'
import { Federation, HeldLogs, TrustPolicy, silentLogger, type FederationDb } from '@scitt/node'
import { percentile, type Bench } from '../../../scripts/bench-lib.js'

const NODES = 20
const SAMPLES = Number(process.env.SAMPLES ?? 100)
const NAME = 'bench'
const HEARTBEAT_MS = Number(process.env.HB ?? 1000)

/** Peers in the node's gossipsub mesh for the topic (a runtime method that GossipSub's type leaves out). */
function meshPeers (f: Federation, topic: string): number {
  return (f.network.services.pubsub as unknown as { getMeshPeers: (t: string) => string[] }).getMeshPeers(topic).length
}

async function until (check: () => boolean, ms: number, what: string): Promise<void> {
  const deadline = Date.now() + ms
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 10))
  }
}

export default async function (bench: Bench): Promise<void> {
  useNodeSha256()
  const seed = (label: string): Uint8Array => sha256Digest(utf8(`federation bench ${label}`))
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

  // Baseline: the cryptographic work of one cosignature (the witness signs, the log verifies).
  const signer = nodeSignatures.signer('Ed25519', seed('baseline'))
  const text = utf8('bench.example/log\n1\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n')
  const verifier = nodeSignatures.verifier('Ed25519', signer.publicKey)
  bench.rateSync('Ed25519 sign + verify (one cosignature), node:crypto', () => verifier.verify(text, signer.sign(text)), { minMs: 500 })

  const receiptKey = nodeSignatures.signer('ES256', nodeSignatures.generateSecretKey('ES256'))
  const receiptProtected = receiptProtectedHeader({ alg: 'ES256', kid: new Uint8Array(8), iss: 'bench' })
  const started: Array<{ log: Log, federation: Federation, db: MemoryLevel<Uint8Array, Uint8Array> }> = []
  try {
    for (const [i, s] of specs.entries()) {
      const db = new MemoryLevel<Uint8Array, Uint8Array>({ keyEncoding: 'view', valueEncoding: 'view' })
      const log = await Log.open({
        db: db as unknown as LogDatabase, origin: s.origin, logSigner: ed25519NoteSigner(s.origin, s.logKey, nodeSignatures),
        receiptSigner: receiptKey, receiptProtected, batchAgeMs: 0, sync: false, tileCacheBytes: 1 << 20,
      })
      const federation = await Federation.start({
        name: NAME,
        log,
        logSigner: ed25519NoteSigner(s.origin, s.logKey, nodeSignatures),
        logVerifier: s.logVerifier,
        ...(witnesses.includes(i) ? { witnessSigner: cosignatureSigner(s.witnessName, s.witnessKey, () => Math.floor(Date.now() / 1000), nodeSignatures), witnessVkey: s.witnessVkey } : {}),
        trust: TrustPolicy.parse(policy),
        db: db.sublevel<string, Uint8Array>('federation', { keyEncoding: 'utf8', valueEncoding: 'view' }) as unknown as FederationDb,
        held: new HeldLogs([s.origin]),
        peerSeed: seed(`peer ${i}`),
        listen: ['/ip4/127.0.0.1/tcp/0'],
        bootstrap: i === 0 ? [] : started[0]!.federation.multiaddrs,
        roles: witnesses.includes(i) ? ['witness'] : ['sector'],
        logger: silentLogger(),
        heartbeatMs: HEARTBEAT_MS,
        announceMs: 10_000,
        timeoutMs: 3000,
      })
      started.push({ log, federation, db })
    }
    const origin = started[0]!
    const others = started.slice(1)
    const topic = origin.federation.topics.checkpoints
    await until(() => started.every((n) => meshPeers(n.federation, topic) >= 2), 30_000, 'gossip mesh')
    await until(() => {
      const announced = (origin.federation.statusJson() as { announced: Array<{ witness: string | null }> }).announced
      return witnesses.every((i) => announced.some((d) => d.witness === specs[i]!.witnessVkey))
    }, 30_000, 'witness descriptors')

    const propagation: number[] = []
    const quorum: number[] = []
    for (let k = 0; k < SAMPLES + 3; k++) {
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
      if (k >= 3) { // the first few warm up streams and caches
        propagation.push(Math.max(...seenAt.values()) - integratedAt)
        quorum.push(quorumAt - integratedAt)
      }
      await new Promise((resolve) => setTimeout(resolve, 50))
    }
    propagation.sort((a, b) => a - b)
    quorum.sort((a, b) => a - b)
    const note = `${NODES} nodes in one process, ${cpus().length} cores, load ${loadavg()[0]!.toFixed(2)}, ${SAMPLES} checkpoints one at a time, gossipsub heartbeat ${HEARTBEAT_MS} ms`
    bench.record(`checkpoint to all ${NODES} nodes p50`, percentile(propagation, 50), 'ms', { note })
    bench.record(`checkpoint to all ${NODES} nodes p99`, percentile(propagation, 99), 'ms', { target: '≤ 500 ms', note })
    bench.record('integration → 2-of-3 cosigned checkpoint p50', percentile(quorum, 50), 'ms', { note: 'witnesses reached over libp2p add-checkpoint' })
    bench.record('integration → 2-of-3 cosigned checkpoint p99', percentile(quorum, 99), 'ms', { target: '≤ 1000 ms' })
  } finally {
    for (const n of started.reverse()) {
      await n.federation.stop().catch(() => {})
      await n.log.close().catch(() => {})
      await n.db.close().catch(() => {})
    }
  }
}
