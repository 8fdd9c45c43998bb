/**
 * Federation over libp2p, end to end on 127.0.0.1 with real nodes (HTTP, LevelDB, libp2p over TCP):
 * three sector registries and one independent witness. A registration yields a checkpoint every node
 * sees, cosigned by a 2-of-3 policy quorum whose cosignatures verify as C2SP cosignature/v1; a forked
 * registry is caught by every honest node with the same, self-verifying evidence, and witnesses refuse
 * to cosign it; a hostile peer's garbage, forgeries and replays are rejected while honest traffic flows.
 */
import '../src/p2p/polyfill.js'
import assert from 'node:assert/strict'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import {
  checkCosignedCheckpoint, ed25519NoteSigner, formatAddCheckpointRequest, formatNote, parseNote, parsePolicy, sha256Digest, signCheckpoint, utf8,
} from '@scitt/core'
import { nodeSignatures } from '@scitt/node-crypto'
import { multiaddr } from '@multiformats/multiaddr'
import { createNetwork, type Network } from '../src/p2p/network.js'
import { encodeCheckpointMessage } from '../src/federation/wire.js'
import { encodeEvidence, openEvidence } from '../src/federation/equivocation.js'
import { Level } from 'level'
import { fsckNode } from '@scitt/node'
import { copyData, initFederatedDir, policyText, startFederated, until, type FederatedNode, type NodeKeys } from './federation-helpers.js'
import { http, makeIssuer, post, statement } from './helpers.js'

const NAME = 'testnet'

describe('federation over libp2p (3 sector nodes + 1 witness, loopback)', function () {
  this.timeout(30_000)
  const issuer = makeIssuer('https://issuer.example')
  let root: string
  let keys: { iot: NodeKeys, firmware: NodeKeys, containers: NodeKeys, witness: NodeKeys }
  let policy: string
  let nodes: FederatedNode[] = []
  const byOrigin = (n: NodeKeys): FederatedNode => nodes.find((x) => x.keys === n)!
  /** The name a node's witness key has in the policy (w0..w2, in the order given to policyText). */
  const policyWitnessName = (n: NodeKeys): string => `w${[keys.firmware, keys.containers, keys.witness].indexOf(n)}`

  before(async function () {
    root = await mkdtemp(join(tmpdir(), 'scitt-fed-'))
    keys = {
      iot: initFederatedDir(join(root, 'iot'), 'iot.example/log', issuer),
      firmware: initFederatedDir(join(root, 'firmware'), 'firmware.example/log', issuer),
      containers: initFederatedDir(join(root, 'containers'), 'containers.example/log', issuer),
      witness: initFederatedDir(join(root, 'witness'), 'witness.example/log', issuer),
    }
    policy = policyText([keys.iot, keys.firmware, keys.containers, keys.witness], [keys.firmware, keys.containers, keys.witness], 2)
    const first = await startFederated(keys.witness, { name: NAME, policy, bootstrap: [] })
    nodes = [first]
    const boot = first.federation.multiaddrs
    for (const k of [keys.iot, keys.firmware, keys.containers]) nodes.push(await startFederated(k, { name: NAME, policy, bootstrap: boot }))
    await until(() => nodes.every((n) => n.federation.network.services.pubsub.getSubscribers(n.federation.topics.checkpoints).length >= 3), 15_000, 'gossip mesh')
  })

  after(async () => {
    for (const n of nodes) await n.stop().catch(() => {})
    await rm(root, { recursive: true, force: true })
  })

  it('a registration yields a checkpoint every node sees, cosigned by a 2-of-3 quorum (cosignature/v1)', async () => {
    const iot = byOrigin(keys.iot)
    // Wait until iot knows every witness through its descriptor (announce topic).
    await until(() => {
      const announced = (iot.federation.statusJson() as { announced: Array<{ witness: string | null }> }).announced
      return [keys.firmware, keys.containers, keys.witness].every((k) => announced.some((d) => d.witness === k.witnessVkey))
    }, 8000, 'descriptors')
    const started = Date.now()
    const res = await post(iot.node.url, statement(issuer))
    assert.equal(res.status, 201)
    const size = iot.node.log.latestCheckpoint()!.size
    await until(() => nodes.every((n) => (n.federation.heads.latest(keys.iot.origin)?.size ?? 0) >= size), 5000, 'every node sees the checkpoint')
    await until(() => nodes.every((n) => n.federation.heads.latest(keys.iot.origin)?.quorum === true), 5000, 'quorum everywhere')
    const elapsed = Date.now() - started
    assert.ok(elapsed < 5000, `took ${elapsed} ms`)
    const cosigned = iot.federation.cosignedCheckpoint()!
    const checked = checkCosignedCheckpoint(parsePolicy(policy, nodeSignatures), cosigned)
    assert.equal(checked.checkpoint.size, size)
    assert.ok(checked.witnesses.length >= 2, `witnesses: ${checked.witnesses.join(',')}`)
    assert.equal(parseNote(cosigned).signatures.length, 1 + checked.witnesses.length)
    for (const n of nodes) assert.equal(n.federation.evidence.list().length, 0)
    const metrics = (await http(`${iot.node.url}/metrics`)).body.toString('utf8')
    assert.match(metrics, /scitt_witness_cosignatures_total\{witness="w\d",outcome="ok"\} [1-9]/)
    // GET /checkpoint serves the cosigned checkpoint; GET /federation and /evidence report it.
    await until(async () => {
      const res = await http(`${iot.node.url}/checkpoint`)
      return checkCosignedCheckpoint(parsePolicy(policy, nodeSignatures), res.body.toString('utf8')).witnesses.length >= 2
    }, 3000, 'cosigned GET /checkpoint')
    const status = JSON.parse((await http(`${byOrigin(keys.witness).node.url}/federation`)).body.toString('utf8'))
    assert.equal(status.federation, NAME)
    const head = status.origins.find((o: any) => o.origin === keys.iot.origin)
    assert.equal(head.size, size)
    assert.ok(head.cosignatures >= 2)
    assert.equal(head.equivocated, null)
    const descriptor = status.announced.find((d: any) => d.origin === keys.iot.origin)
    assert.equal(descriptor.http, iot.node.url)
    assert.deepEqual(JSON.parse((await http(`${iot.node.url}/evidence`)).body.toString('utf8')), [])
  })

  it('a node stopped and restarted (same data and keys) catches up and stays consistent', async () => {
    const containers = byOrigin(keys.containers)
    const firmware = byOrigin(keys.firmware)
    assert.equal((await post(containers.node.url, statement(issuer))).status, 201)
    const before = containers.node.log.latestCheckpoint()!.size
    await until(() => nodes.every((n) => n.federation.heads.latest(keys.containers.origin)?.quorum === true && n.federation.heads.latest(keys.containers.origin)!.size === before), 5000, 'containers cosigned everywhere')
    const peerId = containers.federation.peerId
    await containers.stop()
    nodes = nodes.filter((n) => n !== containers)
    // The node's LevelDB holds the log and, in its own sublevel, the federation's witness state: the
    // log's fsck reads only the log's key ranges and still passes.
    const report = await fsckNode(containers.node.config)
    assert.ok(report.ok, report.errors.join('; '))
    const db = new Level<string, Uint8Array>(containers.node.config.dataDir, { keyEncoding: 'utf8', valueEncoding: 'view' })
    await db.open()
    try {
      const witnessKeys = await db.sublevel<string, Uint8Array>('federation', { keyEncoding: 'utf8', valueEncoding: 'view' }).keys({ gte: 'witness/', lt: 'witness0' }).all()
      assert.ok(witnessKeys.length >= 1, 'the witness state is in the federation sublevel')
      // Every key of the database is either the log's (one-byte prefixes s c t e i) or under "!federation!".
      const prefixes = new Set<string>()
      for await (const key of db.keys({ keyEncoding: 'view' }) as AsyncIterable<Uint8Array>) {
        prefixes.add(Buffer.from(key).toString('latin1').startsWith('!federation!') ? '!federation!' : String.fromCharCode(key[0]!))
      }
      assert.ok([...prefixes].every((p) => ['s', 'c', 't', 'e', 'i', '!federation!'].includes(p)), [...prefixes].join(' '))
      assert.ok(prefixes.has('!federation!') && prefixes.has('c'))
    } finally {
      await db.close()
    }
    // While it is down, firmware moves on.
    for (let i = 0; i < 3; i++) assert.equal((await post(firmware.node.url, statement(issuer))).status, 201)
    const firmwareSize = firmware.node.log.latestCheckpoint()!.size
    await until(() => nodes.every((n) => n.federation.heads.latest(keys.firmware.origin)?.size === firmwareSize), 5000, 'firmware head on the running nodes')
    // Restart from the same directory: same log, same peer id; it learns the heads it missed.
    const again = await startFederated(keys.containers, { name: NAME, policy, bootstrap: byOrigin(keys.witness).federation.multiaddrs })
    nodes.push(again)
    assert.equal(again.federation.peerId, peerId)
    assert.equal(again.node.log.latestCheckpoint()!.size, before)
    await until(() => again.federation.heads.latest(keys.firmware.origin)?.size === firmwareSize, 8000, 'the restarted node catches up with firmware')
    // iot published nothing meanwhile, so its head can only come from the head protocol (catch-up).
    const iotSize = byOrigin(keys.iot).node.log.latestCheckpoint()!.size
    await until(() => again.federation.heads.latest(keys.iot.origin)?.size === iotSize, 8000, 'the restarted node catches up with iot')
    assert.equal(again.federation.heads.latest(keys.iot.origin)!.quorum, true, 'the caught-up head carries its cosignatures')
    // With containers down, firmware had one of the two cosignatures its quorum needs (it does not
    // cosign itself); the restarted witness's announce makes firmware ask again.
    await until(() => nodes.every((n) => n.federation.heads.latest(keys.firmware.origin)?.quorum === true), 8000, 'firmware reaches its quorum again')
    // Its next checkpoint extends the one the witnesses cosigned before the restart (they check the
    // consistency proof against their stored state) and reaches a quorum again.
    assert.equal((await post(again.node.url, statement(issuer))).status, 201)
    const after = again.node.log.latestCheckpoint()!.size
    assert.ok(after > before)
    await until(() => nodes.every((n) => n.federation.heads.latest(keys.containers.origin)?.size === after && n.federation.heads.latest(keys.containers.origin)!.quorum), 8000, 'the new checkpoint cosigned everywhere')
    // As a witness it kept its state: firmware's next checkpoint is cosigned by it too.
    assert.equal((await post(firmware.node.url, statement(issuer))).status, 201)
    const w = policyWitnessName(keys.containers)
    await until(() => firmware.federation.heads.latest(keys.firmware.origin)?.witnesses.includes(w) === true && firmware.federation.heads.latest(keys.firmware.origin)!.size === firmwareSize + 1, 8000, 'the restarted witness cosigns firmware')
    for (const n of nodes) assert.equal(n.federation.evidence.list().length, 0)
  })

  it('a hostile peer publishing garbage, forgeries and replays is rejected and scored down; honest traffic flows', async () => {
    const witness = byOrigin(keys.witness)
    const hostile: Network = await createNetwork({ peerSeed: sha256Digest(utf8('hostile')), listen: ['/ip4/127.0.0.1/tcp/0'], bootstrap: witness.federation.multiaddrs, scoredTopics: [], heartbeatMs: 200 })
    try {
      const topic = witness.federation.topics.checkpoints
      hostile.services.pubsub.subscribe(topic)
      await until(() => hostile.services.pubsub.getSubscribers(topic).length >= 1, 10_000, 'hostile joins the mesh')
      const forged = formatNote(signCheckpoint({ origin: keys.firmware.origin, size: 99, rootHash: new Uint8Array(32).fill(7), extensions: [] },
        ed25519NoteSigner(keys.firmware.origin, sha256Digest(utf8('not the firmware key')), nodeSignatures)))
      const replay = encodeCheckpointMessage({ note: byOrigin(keys.iot).federation.cosignedCheckpoint()!, seal: undefined })
      const garbage = [utf8('garbage'), new Uint8Array([0, 0, 0, 200, 1, 2]), encodeCheckpointMessage({ note: forged, seal: undefined }), encodeEvidence({ type: 'scitt-equivocation/v1', kind: 'same-size', origin: keys.firmware.origin, notes: [forged, forged] })]
      for (const bytes of garbage) await hostile.services.pubsub.publish(bytes.length === garbage[3]!.length ? witness.federation.topics.evidence : topic, bytes).catch(() => {})
      for (let i = 0; i < 3; i++) await hostile.services.pubsub.publish(topic, replay).catch(() => {})
      const hostileId = hostile.peerId.toString()
      await until(() => (witness.federation.network.services.pubsub as any).getScore(hostileId) < 0, 5000, 'hostile scored down')
      const metrics = (await http(`${witness.node.url}/metrics`)).body.toString('utf8')
      assert.match(metrics, /scitt_gossip_messages_total\{topic="checkpoints",verdict="reject"\} [1-9]/)
      for (const n of nodes) assert.ok((n.federation.heads.latest(keys.firmware.origin)?.size ?? 0) < 99, 'the forgery was not taken')
      // Honest traffic still flows.
      const firmware = byOrigin(keys.firmware)
      assert.equal((await post(firmware.node.url, statement(issuer))).status, 201)
      const size = firmware.node.log.latestCheckpoint()!.size
      await until(() => nodes.every((n) => n.federation.heads.latest(keys.firmware.origin)?.size === size), 5000, 'honest checkpoint everywhere')
      for (const n of nodes) assert.equal(n.federation.evidence.list().length, 0)
    } finally {
      await hostile.stop()
    }
  })

  it('a forked registry is caught by every honest node with the same self-verifying evidence; witnesses refuse it', async () => {
    const iot = byOrigin(keys.iot)
    await iot.stop()
    nodes = nodes.filter((n) => n !== iot)
    const dataDir = iot.node.config.dataDir
    copyData(dataDir, `${dataDir}-a`)
    copyData(dataDir, `${dataDir}-b`)
    const boot = byOrigin(keys.witness).federation.multiaddrs
    // Half b signs its entry alone (no peers yet): once a's checkpoint of that size reached it, b would
    // see its own log signed beyond what it holds and halt (history-guard.ts), as an honest node must.
    // Same log keys; a fresh peer key so that both halves of the fork can be on the network at once.
    const b = await startFederated(keys.iot, { name: NAME, policy, bootstrap: [], dataDir: `${dataDir}-b`, peerSeed: sha256Digest(utf8('fork b')) })
    nodes.push(b)
    assert.equal((await post(b.node.url, statement(issuer))).status, 201)
    const a = await startFederated(keys.iot, { name: NAME, policy, bootstrap: boot, dataDir: `${dataDir}-a` })
    nodes.push(a)
    const honest = nodes.filter((n) => n !== a && n !== b)
    assert.equal((await post(a.node.url, statement(issuer))).status, 201)
    await b.federation.network.dial(multiaddr(boot[0]))
    await until(() => [a, b].every((n) => n.federation.network.services.pubsub.getSubscribers(n.federation.topics.checkpoints).length >= 1), 10_000, 'forks join')
    assert.equal(a.node.log.latestCheckpoint()!.size, b.node.log.latestCheckpoint()!.size)
    await until(() => honest.every((n) => n.federation.evidence.against(keys.iot.origin) !== undefined), 8000, 'every honest node records evidence')
    const ids = honest.map((n) => n.federation.evidence.against(keys.iot.origin))
    assert.equal(new Set(ids).size, 1, 'the same evidence everywhere')
    for (const n of honest) assert.equal(n.federation.evidence.list().length, 1, 'only the fork is evidence')
    const { evidence } = honest[0]!.federation.evidence.list()[0]!
    // It verifies on its own, with nothing but the origin's log key.
    const reopened = openEvidence(encodeEvidence(evidence), (o) => (o === keys.iot.origin ? [keys.iot.logVerifier] : []))
    assert.equal(reopened.kind, 'same-size')
    // Witnesses refuse to cosign the origin from now on.
    const w = byOrigin(keys.witness).federation.witness!
    const next = a.node.log.latestCheckpoint()!
    let oldSize = 0
    let answer = await w.addCheckpoint(formatAddCheckpointRequest({ oldSize, proof: [], checkpoint: next.note }))
    for (let i = 0; i < 3 && answer.status === 409; i++) {
      oldSize = Number(answer.body.trim())
      const proof = oldSize === 0 || oldSize === next.size ? [] : await a.node.log.consistencyProof(oldSize, next.size)
      answer = await w.addCheckpoint(formatAddCheckpointRequest({ oldSize, proof, checkpoint: next.note }))
    }
    assert.equal(answer.status, 422)
    assert.match(answer.body, /equivocated|different root/)
    const status = byOrigin(keys.witness).federation.statusJson() as any
    assert.equal(status.evidence.length, 1)
    assert.equal(status.origins.find((o: any) => o.origin === keys.iot.origin).equivocated, ids[0])
  })
})
