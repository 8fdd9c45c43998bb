/**
 * The nodes of the federation bench (federation.bench.ts): node i of an n-node federation is a
 * Federation over its own memory-level Log on loopback, with a deterministic log key, witness key and
 * peer key, so that nodes started in different processes agree on the trust policy and on each
 * other's peer ids. Nodes 1, 2 and 3 are the witnesses of a 2-of-3 quorum.
 */
import '../src/p2p/polyfill.js'
import { MemoryLevel } from 'memory-level'
import {
  cosignatureSigner, ed25519NoteSigner, ed25519NoteVerifier, formatVkey, receiptProtectedHeader, sha256Digest, utf8,
  NOTE_KEY_TYPE_COSIGNATURE_V1,
} from '@scitt/core'
import { nodeSignatures } from '@scitt/node-crypto'
import { Log } from '@scitt/log'
import { Federation, HeldLogs, TrustPolicy, createLogger, silentLogger } from '@scitt/node'
import { benchLogFiles } from '../../../scripts/bench-lib.js'

export const NAME = 'bench'
/** The witnesses of the quorum, by node index. */
export const WITNESSES = [1, 2, 3]
/** Earlier nodes each node is bootstrapped to. */
export const BOOTSTRAP_PEERS = 3

export interface BenchNode {
  index: number
  origin: string
  log: Log
  federation: Federation
  db: MemoryLevel<Uint8Array, Uint8Array>
}

export interface NodeSettings {
  heartbeatMs: number
  /** Re-announce period (ms). */
  announceMs: number
  /** Log level for one node (LOG env), else silent. */
  logNode?: { index: number, level: string }
}

const seed = (label: string): Uint8Array => sha256Digest(utf8(`federation bench ${label}`))

export const originOf = (i: number): string => `n${i}.bench.example/log`
const witnessNameOf = (i: number): string => `${originOf(i)}/witness`
const witnessVkeyOf = (i: number): string =>
  formatVkey(witnessNameOf(i), NOTE_KEY_TYPE_COSIGNATURE_V1, nodeSignatures.signer('Ed25519', seed(`witness ${i}`)).publicKey)
/** The witness vkey node i announces (for a witness node). */
export const witnessVkey = witnessVkeyOf

/** The trust policy of an n-node federation: every node's log, the three witnesses, a 2-of-3 quorum. */
export function policyText (n: number): string {
  return [
    ...Array.from({ length: n }, (_, i) => `log ${formatVkey(originOf(i), 0x01, nodeSignatures.signer('Ed25519', seed(`log ${i}`)).publicKey)}`),
    ...WITNESSES.map((i) => `witness w${i} ${witnessVkeyOf(i)}`),
    `group q 2 ${WITNESSES.map((i) => `w${i}`).join(' ')}`,
    'quorum q',
    '',
  ].join('\n')
}

/** A deterministic choice of up to `count` distinct earlier nodes for node i (always including i − 1). */
export function bootstrapOf (i: number, count = BOOTSTRAP_PEERS): number[] {
  const chosen = new Set<number>(i === 0 ? [] : [i - 1])
  let x = i * 2654435761 >>> 0
  for (let tries = 0; chosen.size < Math.min(count, i) && tries < 64; tries++) {
    x = (x * 1103515245 + 12345) >>> 0
    chosen.add(x % i)
  }
  return [...chosen]
}

const receiptKey = nodeSignatures.signer('ES256', seed('receipt key'))
const receiptProtected = receiptProtectedHeader({ alg: 'ES256', kid: new Uint8Array(8), iss: 'bench' })

/** Starts node i of an n-node federation (policy from policyText(n)), bootstrapped to `bootstrap` multiaddrs. */
export async function startNode (i: number, policy: TrustPolicy, bootstrap: string[], settings: NodeSettings): Promise<BenchNode> {
  const origin = originOf(i)
  const logKey = seed(`log ${i}`)
  const witness = WITNESSES.includes(i)
  const db = new MemoryLevel<Uint8Array, Uint8Array>({ keyEncoding: 'view', valueEncoding: 'view' })
  const log = await Log.open({
    db, files: benchLogFiles(), origin, logSigner: ed25519NoteSigner(origin, logKey, nodeSignatures),
    receiptSigner: receiptKey, receiptProtected, batchAgeMs: 0, sync: false, tileCacheBytes: 1 << 20,
  })
  const federation = await Federation.start({
    name: NAME,
    log,
    logSigner: ed25519NoteSigner(origin, logKey, nodeSignatures),
    logVerifier: ed25519NoteVerifier(origin, nodeSignatures.signer('Ed25519', logKey).publicKey, nodeSignatures),
    ...(witness ? { witnessSigner: cosignatureSigner(witnessNameOf(i), seed(`witness ${i}`), () => Math.floor(Date.now() / 1000), nodeSignatures), witnessVkey: witnessVkeyOf(i) } : {}),
    trust: policy,
    db: db.sublevel<string, Uint8Array>('federation', { keyEncoding: 'utf8', valueEncoding: 'view' }),
    held: new HeldLogs([origin]),
    peerSeed: seed(`peer ${i}`),
    listen: ['/ip4/127.0.0.1/tcp/0'],
    bootstrap,
    roles: witness ? ['witness'] : ['sector'],
    logger: settings.logNode?.index === i ? createLogger({ level: settings.logNode.level }) : silentLogger(),
    heartbeatMs: settings.heartbeatMs,
    announceMs: settings.announceMs,
    timeoutMs: 3000,
  })
  return { index: i, origin, log, federation, db }
}

export async function stopNode (n: BenchNode): Promise<void> {
  await n.federation.stop().catch(() => {})
  await n.log.close().catch(() => {})
  await n.db.close().catch(() => {})
}

/** Peers in the node's gossipsub mesh for the topic (a runtime method that GossipSub's type leaves out). */
export function meshPeers (f: Federation, topic: string): number {
  return (f.network.services.pubsub as unknown as { getMeshPeers: (t: string) => string[] }).getMeshPeers(topic).length
}

/** Whether a node is meshed: Dlo = 4 peers, or every topic peer it has when it has fewer (at least 3). */
export function meshed (f: Federation, topic: string): boolean {
  const peers = f.network.services.pubsub.getSubscribers(topic).length
  return peers >= 3 && meshPeers(f, topic) >= Math.min(4, peers)
}
