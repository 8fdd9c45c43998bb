/**
 * Fault suite, hostile peers over real libp2p (loopback): three honest nodes (two registries
 * and a witness, each a witness of the 2-of-3 policy) face raw libp2p peers that publish forged, mutated,
 * replayed and stale heads, forged evidence and descriptors; a peer whose log key the policy trusts and
 * which equivocates; a relay that passes on the genuine, consistent heads of an offline log and refuses
 * to prove their consistency; a peer that floods every topic; and raw streams to the request/response
 * protocols (huge length prefixes, garbage, streams that never finish, more streams than allowed).
 * Honest nodes keep working — a registration during each attack reaches every honest node within a
 * bound — record the equivocation as the same evidence everywhere, and converge.
 */
import '../../packages/node/src/p2p/polyfill.js'
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import fc from 'fast-check'
import { multiaddr } from '@multiformats/multiaddr'
import type { Stream } from '@libp2p/interface'
import {
  ed25519NoteSigner, formatAddCheckpointRequest, formatNote, parseNote, parseSkey, sha256Digest, signCheckpoint, utf8, openCheckpoint,
  type NoteSigner,
} from '@scitt/core'
import { nodeSignatures } from '@scitt/node-crypto'
import {
  createNetwork, decodeHeadAnswer, decodeWitnessAnswer, encodeCheckpointMessage, encodeConsistencyAnswer, encodeEvidence, openEvidence,
  signDescriptor, type Network,
} from '@scitt/node'
import { handleRequests, request } from '../../packages/node/src/p2p/protocols.js'
import { initFederatedDir, policyText, startFederated, until, type FederatedNode, type NodeKeys } from '../../packages/node/test/federation-helpers.js'
import { http, makeIssuer, post, statement } from '../../packages/node/test/helpers.js'
import { loadVector } from '../fixtures.js'
import { hostile } from './mutate.js'
import { MiB, sleep } from './hostile-socket.js'
import { record } from './report.js'

const NAME = 'faultnet'
const notes = loadVector('c2sp-notes')
/** An honest registration must reach every honest node within this bound, attack or not. */
const HONEST_BOUND_MS = 8000

function signerOf (keys: NodeKeys): NoteSigner {
  const { seed } = parseSkey(readFileSync(join(keys.dir, 'log.key'), 'utf8').trim(), nodeSignatures)
  return ed25519NoteSigner(keys.origin, seed, nodeSignatures)
}

function checkpointNote (origin: string, size: number, root: Uint8Array, signer: NoteSigner): string {
  return formatNote(signCheckpoint({ origin, size, rootHash: root, extensions: [] }, signer))
}

/** An unsigned LEB128 varint (the length prefix of libp2p's length-prefixed frames). */
function varint (n: bigint): Uint8Array {
  const out: number[] = []
  do {
    let byte = Number(n & 0x7fn)
    n >>= 7n
    if (n > 0n) byte |= 0x80
    out.push(byte)
  } while (n > 0n)
  return Uint8Array.from(out)
}

/** The note with the signature bytes of `name`'s line altered (its key id kept). */
function corrupted (note: string, name: string): string {
  const parsed = parseNote(note)
  return formatNote({
    text: parsed.text,
    signatures: parsed.signatures.map((s) => (s.name === name ? { ...s, signature: s.signature.map((b, i) => (i === 0 ? b ^ 1 : b)) } : s)),
  })
}

/** The payload of one length-prefixed frame. */
function unframe (bytes: Uint8Array): Uint8Array {
  let length = 0n
  let i = 0
  for (let shift = 0n; ; shift += 7n) {
    const byte = bytes[i++]!
    length |= BigInt(byte & 0x7f) << shift
    if (byte < 0x80) break
  }
  return bytes.subarray(i, i + Number(length))
}

interface StreamEnd {
  /** The remote ended (closed its side or reset the stream). */
  ended: boolean
  ms: number
  data: Uint8Array
}

/** Waits until the remote ends the stream (close or reset), at most `ms`; then closes our side. */
function streamEnd (stream: Stream, ms: number): Promise<StreamEnd> {
  const started = performance.now()
  const chunks: Uint8Array[] = []
  return new Promise((resolve) => {
    let done = false
    const finish = (ended: boolean): void => {
      if (done) return
      done = true
      clearTimeout(timer)
      try { stream.abort(new Error('test done')) } catch {}
      resolve({ ended, ms: performance.now() - started, data: Buffer.concat(chunks) })
    }
    const timer = setTimeout(() => { finish(false) }, ms)
    stream.addEventListener('message', (e) => { chunks.push(e.data.subarray()) })
    stream.addEventListener('remoteCloseWrite', () => { finish(true) })
    stream.addEventListener('close', () => { finish(true) })
    if (stream.status !== 'open') finish(true)
  })
}

describe('faults: hostile peers over real libp2p', function () {
  this.timeout(120_000)
  const issuer = makeIssuer('https://issuer.example')
  let root: string
  let keys: { a: NodeKeys, b: NodeKeys, w: NodeKeys, evil: NodeKeys }
  let nodes: FederatedNode[] = []
  const hostiles: Network[] = []
  /** Entries acknowledged by honest registries during the file, and by whom. */
  const acked: Array<{ node: FederatedNode, id: string }> = []

  const node = (k: NodeKeys): FederatedNode => nodes.find((n) => n.keys === k)!
  const honestOrigins = (): string[] => nodes.map((n) => n.keys.origin)

  /** Registers at `at` and waits until every honest node has a head of at least that size; returns the latency. */
  async function honestRegistration (at: FederatedNode): Promise<number> {
    const started = Date.now()
    const res = await post(at.node.url, statement(issuer))
    assert.equal(res.status, 201)
    acked.push({ node: at, id: new URL(String(res.headers.location)).pathname.split('/').pop()! })
    const size = at.node.log.latestCheckpoint()!.size
    await until(() => nodes.every((n) => (n.federation.heads.latest(at.keys.origin)?.size ?? 0) >= size), HONEST_BOUND_MS, `every honest node sees ${at.keys.origin} at ${size}`)
    return Date.now() - started
  }

  /** A raw libp2p peer (no federation service) connected to every honest node, subscribed to the topics. */
  async function hostilePeer (label: string): Promise<Network> {
    const w = node(keys.w)
    const net = await createNetwork({
      peerSeed: sha256Digest(utf8(`hostile ${label}`)),
      listen: ['/ip4/127.0.0.1/tcp/0'],
      bootstrap: nodes.flatMap((n) => n.federation.multiaddrs.slice(0, 1).map((a) => `${a.includes('/p2p/') ? a : `${a}/p2p/${n.federation.peerId}`}`)),
      scoredTopics: [],
      heartbeatMs: 200,
    })
    hostiles.push(net)
    for (const topic of Object.values(w.federation.topics)) net.services.pubsub.subscribe(topic)
    await until(() => nodes.every((n) => n.federation.network.getConnections(net.peerId).length > 0), 10_000, `${label} connects to every honest node`)
    await until(() => net.services.pubsub.getSubscribers(w.federation.topics.checkpoints).length >= nodes.length, 10_000, `${label} joins the mesh`)
    return net
  }

  /** Gossip messages a node has rejected so far (its metrics). */
  async function rejectedCount (n: FederatedNode): Promise<number> {
    const metrics = (await http(`${n.node.url}/metrics`)).body.toString('utf8')
    return [...metrics.matchAll(/^scitt_gossip_messages_total\{topic="[a-z]+",verdict="reject"\} (\d+)$/gm)].reduce((a, m) => a + Number(m[1]), 0)
  }

  const scoreOf = (n: FederatedNode, peer: Network): number => (n.federation.network.services.pubsub as unknown as { getScore: (id: string) => number }).getScore(peer.peerId.toString())

  before(async () => {
    root = await mkdtemp(join(tmpdir(), 'scitt-faults-peers-'))
    keys = {
      a: initFederatedDir(join(root, 'a'), 'a.example/log', issuer),
      b: initFederatedDir(join(root, 'b'), 'b.example/log', issuer),
      w: initFederatedDir(join(root, 'w'), 'w.example/log', issuer),
      evil: initFederatedDir(join(root, 'evil'), 'evil.example/log', issuer),
    }
    // The policy trusts the equivocator's log key and the (offline) vector log; the three honest nodes witness.
    const policy = policyText([keys.a, keys.b, keys.w, keys.evil], [keys.a, keys.b, keys.w], 2).replace('\n', `\nlog ${notes.log_vkey}\n`)
    const first = await startFederated(keys.w, { name: NAME, policy, bootstrap: [] })
    nodes = [first]
    for (const k of [keys.a, keys.b]) nodes.push(await startFederated(k, { name: NAME, policy, bootstrap: first.federation.multiaddrs }))
    await until(() => nodes.every((n) => n.federation.network.services.pubsub.getSubscribers(n.federation.topics.checkpoints).length >= 2), 15_000, 'gossip mesh')
    await until(() => nodes.every((n) => [keys.a, keys.b, keys.w].every((k) => k === n.keys || n.federation.directory.peersFor(k.origin).length > 0)), 10_000, 'descriptors')
    await honestRegistration(node(keys.a))
    await honestRegistration(node(keys.b))
  })

  after(async () => {
    for (const h of hostiles) await Promise.resolve(h.stop()).catch(() => {})
    for (const n of nodes) await n.stop().catch(() => {})
    await rm(root, { recursive: true, force: true })
  })

  it('forged, mutated, replayed and stale heads, forged evidence and descriptors are refused; honest heads flow', async () => {
    const a = node(keys.a)
    const w = node(keys.w)
    const h = await hostilePeer('forger')
    const { checkpoints, evidence, announce } = w.federation.topics
    const staleSize = a.node.log.latestCheckpoint()!.size
    const stale = (await a.node.log.checkpointAt(staleSize))
    await honestRegistration(a)
    const current = a.federation.cosignedCheckpoint() ?? a.node.log.latestCheckpoint()!.note
    const wrongKey = ed25519NoteSigner(keys.a.origin, sha256Digest(utf8('not the key of a')), nodeSignatures)
    const unknown = ed25519NoteSigner('unknown.example/log', sha256Digest(utf8('unknown')), nodeSignatures)
    const forgedA = checkpointNote(keys.a.origin, 1_000_000, sha256Digest(utf8('forged')), wrongKey)
    const messages: Array<{ topic: string, data: Uint8Array, hostile: boolean }> = [
      { topic: checkpoints, data: encodeCheckpointMessage({ note: forgedA, seal: undefined }), hostile: true },
      { topic: checkpoints, data: encodeCheckpointMessage({ note: checkpointNote('unknown.example/log', 5, sha256Digest(utf8('u')), unknown), seal: undefined }), hostile: true },
      // The current head with its log signature corrupted (the trusted name and key id, a bad signature).
      { topic: checkpoints, data: encodeCheckpointMessage({ note: corrupted(current, keys.a.origin), seal: undefined }), hostile: true },
      // Replays: the current head (relayed with and without its seal), and an older, genuine head.
      ...Array.from({ length: 3 }, () => ({ topic: checkpoints, data: encodeCheckpointMessage({ note: current, seal: undefined }), hostile: false })),
      { topic: checkpoints, data: encodeCheckpointMessage({ note: stale.note, seal: stale.seal }), hostile: false },
      { topic: checkpoints, data: encodeCheckpointMessage({ note: stale.note, seal: undefined }), hostile: false },
      { topic: evidence, data: encodeEvidence({ type: 'scitt-equivocation/v1', kind: 'same-size', origin: keys.a.origin, notes: [current, forgedA] }), hostile: true },
      { topic: evidence, data: encodeEvidence({ type: 'scitt-equivocation/v1', kind: 'no-consistency-proof', origin: keys.a.origin, notes: [stale.note, current], attempts: [{ peer: h.peerId.toString(), error: 'BAD_PROOF: forged' }] }), hostile: true },
      { topic: announce, data: utf8(signDescriptor({ origin: keys.a.origin, peer: h.peerId.toString(), addrs: [], roles: ['witness'], time: 4_000_000_000, witness: keys.a.witnessVkey }, wrongKey)), hostile: true },
    ]
    const mutants = fc.sample(hostile([encodeCheckpointMessage({ note: current, seal: stale.seal })], 'u32'), { numRuns: 300 })
    for (const m of mutants) messages.push({ topic: checkpoints, data: m.bytes, hostile: true })
    for (const m of messages) await h.services.pubsub.publish(m.topic, m.data).catch(() => {})
    await until(() => nodes.every((n) => scoreOf(n, h) < 0), 8000, 'the forger is scored down everywhere')
    const latency = await honestRegistration(node(keys.b))
    await sleep(500)
    for (const n of nodes) {
      assert.ok((n.federation.heads.latest(keys.a.origin)?.size ?? 0) < 1_000_000, 'the forged head was not taken')
      assert.equal(n.federation.heads.latest('unknown.example/log'), undefined, 'no head for an unknown origin')
      assert.equal(n.federation.evidence.list().length, 0, 'no evidence from forgeries, replays or stale heads')
      assert.ok(!n.federation.directory.peersFor(keys.a.origin).includes(h.peerId.toString()), 'the forged descriptor was not taken')
    }
    record({
      scenario: 'hostile peers: forged, mutated, replayed, stale heads',
      cases: messages.length,
      faults: messages.filter((m) => m.hostile).length,
      acknowledged: 0,
      found: 0,
      result: 'pass',
      notes: `forger scored ${nodes.map((n) => scoreOf(n, h).toFixed(0)).join('/')} on the 3 honest nodes; no head, descriptor or evidence taken; honest head everywhere in ${latency} ms`,
    })
  })

  it('a peer that equivocates with its own trusted key is caught: the same evidence on every honest node, witnesses refuse it', async () => {
    const h = await hostilePeer('equivocator')
    const evil = signerOf(keys.evil)
    const one = checkpointNote(keys.evil.origin, 5, sha256Digest(utf8('history one')), evil)
    const two = checkpointNote(keys.evil.origin, 5, sha256Digest(utf8('history two')), evil)
    const { checkpoints } = node(keys.w).federation.topics
    await h.services.pubsub.publish(checkpoints, encodeCheckpointMessage({ note: one, seal: undefined }))
    await until(() => nodes.every((n) => n.federation.heads.latest(keys.evil.origin)?.size === 5), HONEST_BOUND_MS, 'every honest node sees the first history')
    const started = Date.now()
    await h.services.pubsub.publish(checkpoints, encodeCheckpointMessage({ note: two, seal: undefined }))
    await until(() => nodes.every((n) => n.federation.evidence.against(keys.evil.origin) !== undefined), HONEST_BOUND_MS, 'every honest node records the equivocation')
    const detected = Date.now() - started
    const ids = new Set(nodes.map((n) => n.federation.evidence.against(keys.evil.origin)))
    assert.equal(ids.size, 1, 'the same evidence everywhere')
    const e = nodes[0]!.federation.evidence.list().find((x) => x.evidence.origin === keys.evil.origin)!.evidence
    assert.equal(e.kind, 'same-size')
    // The evidence verifies on its own, with nothing but the equivocator's log key.
    assert.equal(openEvidence(encodeEvidence(e), (o) => (o === keys.evil.origin ? [keys.evil.logVerifier] : [])).kind, 'same-size')
    // Every honest witness refuses the equivocator from now on, even a checkpoint it would otherwise cosign.
    const next = checkpointNote(keys.evil.origin, 6, sha256Digest(utf8('history one, later')), evil)
    for (const n of nodes) {
      const answer = await n.federation.witness!.addCheckpoint(formatAddCheckpointRequest({ oldSize: 0, proof: [], checkpoint: next }))
      assert.equal(answer.status, 422, `${n.keys.origin} answered ${answer.status} ${answer.body}`)
    }
    const latency = await honestRegistration(node(keys.a))
    record({
      scenario: 'hostile peers: equivocation with a trusted key',
      cases: 2,
      faults: 1,
      acknowledged: 0,
      found: 0,
      result: 'pass',
      notes: `same-size evidence on 3/3 honest nodes in ${detected} ms (one id); 3/3 witnesses answer 422; honest head everywhere in ${latency} ms`,
    })
  })

  it('a relay that passes on the genuine, consistent heads of an offline log and refuses their consistency proof does not get it condemned', async () => {
    // The vector log (example.com/scitt-log) is trusted but has no node online; its checkpoints 4 and 8
    // are genuine and consistent (C2SP vector). The relay answers consistency requests with refusals.
    const h = await hostilePeer('relay')
    const w = node(keys.w)
    let asked = 0
    await handleRequests(h, w.federation.protocols.consistency, async () => { asked++; return encodeConsistencyAnswer({ refused: { code: 'NOT_FOUND', reason: 'no such sizes' } }) }, { maxRequestBytes: 1024, maxResponseBytes: 8192, timeoutMs: 3000 })
    const { checkpoints } = w.federation.topics
    await h.services.pubsub.publish(checkpoints, encodeCheckpointMessage({ note: notes.checkpoint4, seal: undefined }))
    await until(() => nodes.every((n) => n.federation.heads.latest('example.com/scitt-log')?.size === 4), HONEST_BOUND_MS, 'every node sees size 4')
    await h.services.pubsub.publish(checkpoints, encodeCheckpointMessage({ note: notes.checkpoint8, seal: undefined }))
    await until(() => nodes.every((n) => n.federation.heads.latest('example.com/scitt-log')?.size === 8), HONEST_BOUND_MS, 'every node sees size 8')
    // Give the nodes' consistency checks time to run (each asks the peers it can find, within timeoutMs).
    await sleep(4000)
    const condemned = nodes.filter((n) => n.federation.evidence.against('example.com/scitt-log') !== undefined)
    const kinds = condemned.map((n) => n.federation.evidence.list().find((x) => x.evidence.origin === 'example.com/scitt-log')!.evidence.kind)
    // What evidence costs the log: a witness refuses its genuine checkpoint from then on.
    const cosign = await w.federation.witness!.addCheckpoint(formatAddCheckpointRequest({ oldSize: 0, proof: [], checkpoint: notes.checkpoint8 }))
    record({
      scenario: 'hostile peers: relay refuses proofs of an offline log',
      cases: 2,
      faults: asked,
      acknowledged: 0,
      found: 0,
      result: condemned.length === 0 ? 'pass' : 'fail',
      notes: `${asked} consistency requests refused by the relay; evidence against the honest offline log on ${condemned.length}/3 nodes${kinds.length > 0 ? ` (${kinds[0]})` : ''}; witness w then answers ${cosign.status} to its genuine checkpoint`,
    })
    assert.equal(condemned.length, 0, `${condemned.length} honest node(s) recorded ${kinds.join(', ')} evidence against a log that never equivocated, on the word of a relay that does not hold it`)
    assert.equal(cosign.status, 200, 'the witness cosigns the genuine checkpoint')
  })

  it('a peer flooding every topic with thousands of messages does not stop honest heads', async () => {
    const h = await hostilePeer('flooder')
    const { checkpoints, evidence, announce } = node(keys.w).federation.topics
    const wrongKey = ed25519NoteSigner(keys.b.origin, sha256Digest(utf8('not the key of b')), nodeSignatures)
    const rssBefore = process.memoryUsage().rss
    const rejectedBefore = await Promise.all(nodes.map(rejectedCount))
    let published = 0
    const flood = (async () => {
      const garbage = fc.sample(fc.uint8Array({ minLength: 1, maxLength: 2048 }), { numRuns: 2000, seed: 9 })
      for (let i = 0; i < 2000; i++) {
        const topic = i % 4 === 0 ? announce : i % 4 === 1 ? evidence : checkpoints
        await h.services.pubsub.publish(topic, Buffer.concat([garbage[i]!, Buffer.from(`#${i}`)])).catch(() => {})
        published++
      }
      for (let i = 0; i < 1000; i++) {
        const forged = checkpointNote(keys.b.origin, 1_000_000 + i, sha256Digest(utf8(`flood ${i}`)), wrongKey)
        await h.services.pubsub.publish(checkpoints, encodeCheckpointMessage({ note: forged, seal: undefined })).catch(() => {})
        published++
      }
    })()
    // Registrations while the flood runs.
    const latencies: number[] = []
    const deadline = Date.now() + 60_000
    while (published < 2500 && Date.now() < deadline) {
      latencies.push(await honestRegistration(node(keys.b)))
      await sleep(100)
    }
    await flood
    latencies.push(await honestRegistration(node(keys.a)))
    const growth = process.memoryUsage().rss - rssBefore
    // Gossipsub stops taking a peer's messages once its score falls below the graylist threshold.
    await until(() => nodes.some((n) => scoreOf(n, h) < 0), 8000, 'the flooder is scored down')
    const rejected = (await Promise.all(nodes.map(rejectedCount))).map((n, i) => n - rejectedBefore[i]!)
    for (const n of nodes) assert.ok((n.federation.heads.latest(keys.b.origin)?.size ?? 0) < 1_000_000, 'no flooded forgery was taken')
    assert.ok(growth < 256 * MiB, `RSS grew by ${(growth / MiB).toFixed(0)} MiB`)
    record({
      scenario: 'hostile peers: topic flood',
      cases: published + latencies.length,
      faults: published,
      acknowledged: 0,
      found: 0,
      result: 'pass',
      notes: `${published} messages (garbage on 3 topics, 1000 forged heads); validated and rejected before graylisting ${rejected.join('/')}, scores ${nodes.map((n) => scoreOf(n, h).toExponential(1)).join('/')}; ${latencies.length} honest registrations seen everywhere in ≤${Math.max(...latencies)} ms; RSS ${growth >= 0 ? '+' : ''}${(growth / MiB).toFixed(0)} MiB`,
    })
  })

  it('raw streams to the request/response protocols: huge length prefixes, garbage, unfinished and excess streams end within the timeout', async () => {
    const h = await hostilePeer('streamer')
    const w = node(keys.w)
    const target = multiaddr(w.federation.multiaddrs[0]!.includes('/p2p/') ? w.federation.multiaddrs[0]! : `${w.federation.multiaddrs[0]!}/p2p/${w.federation.peerId}`)
    const timeoutMs = 3000
    const protocols = Object.values(w.federation.protocols)
    const cases: Array<{ name: string, bytes: Uint8Array }> = [
      { name: 'length prefix 2^62', bytes: Buffer.concat([varint(1n << 62n), Buffer.alloc(64, 1)]) },
      { name: 'length prefix 2^31', bytes: Buffer.concat([varint(1n << 31n), Buffer.alloc(64, 1)]) },
      { name: 'length prefix 2^20 + 1 MiB', bytes: Buffer.concat([varint(BigInt(MiB + 8192)), Buffer.alloc(64, 1)]) },
      { name: 'varint overflow', bytes: Buffer.alloc(16, 0xff) },
      { name: 'framed garbage', bytes: Buffer.concat([varint(100n), Buffer.alloc(100, 0xfe)]) },
      { name: 'framed empty', bytes: varint(0n) },
      { name: 'two frames', bytes: Buffer.concat([varint(3n), utf8('a.b'), varint(3n), utf8('a.b')]) },
    ]
    // All at once (28 streams, under the per-connection limit): prefixes the length decoder cannot
    // read yet (2^62, overflow) wait for more bytes until the exchange's timeout; the others end at once.
    const results = await Promise.all(protocols.flatMap((protocol) => cases.map(async (c) => {
      const stream = await h.dialProtocol(target, protocol)
      stream.send(c.bytes)
      return { name: `${protocol} ${c.name}`, end: await streamEnd(stream, timeoutMs + 2000) }
    })))
    // Streams that never finish their frame, more of them than the per-connection limit of a protocol (64).
    let refused = 0
    const unfinished = await Promise.all(Array.from({ length: 80 }, async () => {
      try {
        const stream = await h.dialProtocol(target, w.federation.protocols.head)
        stream.send(Buffer.concat([varint(100n), Buffer.alloc(10, 7)]))
        return await streamEnd(stream, timeoutMs + 3000)
      } catch {
        refused++ // refused at negotiation: over the limit
        return { ended: true, ms: 0, data: new Uint8Array(0) }
      }
    }))
    for (const r of results) assert.ok(r.end.ended, `${r.name}: the node did not end the stream within ${timeoutMs + 2000} ms`)
    for (const u of unfinished) assert.ok(u.ended, 'an unfinished stream was left open')
    const slowest = Math.max(...unfinished.map((u) => u.ms))
    assert.ok(slowest < timeoutMs + 2000, `an unfinished stream ended after ${slowest.toFixed(0)} ms`)
    // Framed garbage to add-checkpoint is answered with a C2SP 400.
    const garbageAnswer = decodeWitnessAnswer(unframe(results.find((r) => r.name === `${w.federation.protocols.addCheckpoint} framed garbage`)!.end.data))
    assert.equal(garbageAnswer.status, 400)
    // The node still answers a well-formed head request with its signed head.
    const head = decodeHeadAnswer(await request(h, target, w.federation.protocols.head, utf8(keys.w.origin), { maxRequestBytes: 1024, maxResponseBytes: 2 * MiB, timeoutMs }))
    openCheckpoint(head?.note ?? 'no head', keys.w.logVerifier)
    const latency = await honestRegistration(node(keys.a))
    record({
      scenario: 'hostile peers: raw protocol streams',
      cases: results.length + unfinished.length + 1,
      faults: results.length + unfinished.length,
      acknowledged: 0,
      found: 0,
      result: 'pass',
      notes: `${results.length} hostile frames on ${protocols.length} protocols ended in ≤${Math.max(...results.map((r) => r.end.ms)).toFixed(0)} ms; 80 unfinished head streams (${refused} refused over the limit of 64) ended in ≤${slowest.toFixed(0)} ms; framed garbage to add-checkpoint → ${garbageAnswer.status}; honest head in ${latency} ms`,
    })
  })

  it('after every attack the honest nodes converge: the same heads with quorum, evidence only against the equivocator', async () => {
    await until(() => honestOrigins().every((o) => {
      const heads = nodes.map((n) => n.federation.heads.latest(o))
      const size = node(nodes.find((n) => n.keys.origin === o)!.keys).node.log.latestCheckpoint()!.size
      return heads.every((x) => x?.size === size && x.quorum)
    }), HONEST_BOUND_MS, 'every honest head with its quorum on every honest node')
    for (const o of honestOrigins()) {
      const roots = new Set(nodes.map((n) => Buffer.from(n.federation.heads.latest(o)!.rootHash).toString('hex')))
      assert.equal(roots.size, 1, `one root for ${o}`)
    }
    for (const n of nodes) assert.deepEqual(n.federation.evidence.list().map((x) => x.evidence.origin).filter((o) => honestOrigins().includes(o)), [], 'no evidence against an honest node')
    let found = 0
    for (const { node: at, id } of acked) if ((await at.node.log.indexOf(id)) !== undefined) found++
    record({
      scenario: 'hostile peers: honest convergence afterwards',
      cases: honestOrigins().length,
      faults: 0,
      acknowledged: acked.length,
      found,
      result: 'pass',
      notes: `${honestOrigins().length} honest origins: one head each, quorum on every node; ${acked.length} honest registrations all in their logs`,
    })
    assert.equal(found, acked.length)
  })
})
