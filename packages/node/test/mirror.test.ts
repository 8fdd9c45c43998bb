/**
 * Replication and receipts from any peer, end to end on 127.0.0.1 with real nodes (HTTP,
 * LevelDB, libp2p over TCP): the firmware node mirrors and cross-registers the IoT node's log, the
 * containers node mirrors it too. A statement registered at IoT is returned by the firmware node with
 * IoT's own receipt (byte for byte), carries two receipts there once cross-registered, and is still
 * served with the IoT node stopped; a new mirror started then learns IoT's key from the other mirrors
 * and catches up from them.
 */
import '../src/p2p/polyfill.js'
import assert from 'node:assert/strict'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import {
  MEDIA_TYPE, decodeCoseKey, originHash, decodeCoseKeySet, entryBytes, fromBase64Url, isScittError, entryId, getReceipts, leafHash, parseEntryBundle, parseProofFile, verifyProofFile, verifyReceipt,
} from '@scitt/core'
import { nodeSignatures } from '@scitt/node-crypto'
import { fsckNode } from '@scitt/node'
import { Level } from 'level'
import { Log } from '@scitt/log'
import { openDescriptor } from '../src/federation/descriptor.js'
import { silentLogger } from '../src/logger.js'
import { Mirror } from '../src/mirror/mirror.js'
import { federationSource, type SourceFederation } from '../src/mirror/source.js'
import { initFederatedDir, policyText, startFederated, until, type FederatedNode, type NodeKeys } from './federation-helpers.js'
import { bytes, http, makeIssuer, post, statement, tempLogFiles } from './helpers.js'

const NAME = 'mirrornet'

describe('mirrors over libp2p (iot mirrored by firmware and containers, loopback)', function () {
  this.timeout(60_000)
  const issuer = makeIssuer('https://issuer.example')
  let root: string
  let keys: { iot: NodeKeys, firmware: NodeKeys, containers: NodeKeys }
  let iot: FederatedNode
  let firmware: FederatedNode
  let containers: FederatedNode
  const registered: Array<{ id: string, body: Uint8Array }> = []

  const receiptKey = async (node: FederatedNode): Promise<ReturnType<typeof nodeSignatures.verifier>> => {
    const [key] = decodeCoseKeySet(bytes(await http(`${node.node.url}/.well-known/scitt-keys`)))
    return nodeSignatures.verifier(key!.algorithm, key!.publicKey)
  }

  before(async function () {
    root = await mkdtemp(join(tmpdir(), 'scitt-mirror-'))
    keys = {
      iot: initFederatedDir(join(root, 'iot'), 'iot.example/log', issuer),
      firmware: initFederatedDir(join(root, 'firmware'), 'firmware.example/log', issuer),
      containers: initFederatedDir(join(root, 'containers'), 'containers.example/log', issuer),
    }
    const policy = policyText([keys.iot, keys.firmware, keys.containers], [keys.firmware, keys.containers], 1)
    iot = await startFederated(keys.iot, { name: NAME, policy, bootstrap: [] })
    // Entries logged before the mirrors start: they catch up from zero.
    for (let i = 0; i < 300; i++) {
      const body = statement(issuer, { payload: new TextEncoder().encode(`early ${i}`) })
      registered.push({ id: entryId(decodeEntry(body)), body })
    }
    await Promise.all(registered.map(async ({ body }) => assert.equal((await post(iot.node.url, body)).status, 201)))
    const boot = iot.federation.multiaddrs
    firmware = await startFederated(keys.firmware, { name: NAME, policy, bootstrap: boot, mirror: [keys.iot.origin], crossRegister: [keys.iot.origin] })
    containers = await startFederated(keys.containers, { name: NAME, policy, bootstrap: boot, mirror: [keys.iot.origin] })
  })

  after(async () => {
    for (const n of [containers, firmware, iot]) await n?.stop().catch(() => {})
    await rm(root, { recursive: true, force: true })
  })

  it('a mirror catches up from zero and follows new heads, each chunk checked against the signed root', async () => {
    const late = statement(issuer, { payload: new TextEncoder().encode('late') })
    assert.equal((await post(iot.node.url, late)).status, 201)
    registered.push({ id: entryId(decodeEntry(late)), body: late })
    const size = iot.node.log.latestCheckpoint()!.size
    assert.equal(size, 301)
    for (const n of [firmware, containers]) {
      await until(() => n.node.mirrors?.get(keys.iot.origin)?.size === size, 20_000, `${n.keys.origin} mirror at ${size}`)
      const mirrorLog = n.node.mirrors!.get(keys.iot.origin)!.log
      assert.deepEqual((await mirrorLog.fsck()).errors, [])
      // Every checkpoint the origin signed is stored, so receipts are the origin's own, byte for byte.
      assert.deepEqual((await mirrorLog.checkpointsAfter(0, 1000)).map((c) => c.note), (await iot.node.log.checkpointsAfter(0, 1000)).map((c) => c.note))
    }
    const metrics = await http(`${firmware.node.url}/metrics`)
    assert.match(metrics.body.toString(), /scitt_mirror_tree_size\{origin="iot.example\/log"\} 301/)
    const status = JSON.parse((await http(`${firmware.node.url}/federation`)).body.toString())
    assert.deepEqual(status.mirrors.map((m: any) => [m.origin, m.size, m.state]), [[keys.iot.origin, 301, 'open']])
  })

  it('serves the mirrored log under /logs/<hex sha256(origin)>/ exactly as the origin serves it', async () => {
    const hex = originHash(keys.iot.origin)
    const size = iot.node.log.latestCheckpoint()!.size
    for (const path of ['tile/0/000', 'tile/0/001.p/45', 'tile/1/000.p/1', 'tile/entries/000', 'tile/entries/001.p/45']) {
      const mine = await http(`${iot.node.url}/${path}`)
      const theirs = await http(`${firmware.node.url}/logs/${hex}/${path}`)
      assert.equal(theirs.status, 200, path)
      assert.deepEqual(theirs.body, mine.body, path)
    }
    const checkpoint = await http(`${firmware.node.url}/logs/${hex}/checkpoint`)
    assert.equal(checkpoint.status, 200)
    assert.match(checkpoint.body.toString(), new RegExp(`^${keys.iot.origin}\n${size}\n`))
    // The node's own log is under its hash too; an unknown hash is 404.
    assert.deepEqual((await http(`${firmware.node.url}/logs/${originHash(keys.firmware.origin)}/checkpoint`)).body, (await http(`${firmware.node.url}/checkpoint`)).body)
    assert.equal((await http(`${firmware.node.url}/logs/${'0'.repeat(64)}/checkpoint`)).status, 404)
    assert.equal(parseEntryBundle(bytes(await http(`${firmware.node.url}/logs/${hex}/tile/entries/000`)), 256).length, 256)
    // Runs of full bundles (the log-data protocol's `entry-bundles/<N>/<K>`): only the full ones.
    assert.deepEqual((await http(`${firmware.node.url}/logs/${hex}/entry-bundles/0/16`)).body, (await http(`${iot.node.url}/tile/entries/000`)).body)
    assert.equal((await http(`${firmware.node.url}/logs/${hex}/entry-bundles/1/1`)).status, 404)
    assert.equal((await http(`${firmware.node.url}/logs/${hex}/entry-bundles/0/65`)).status, 400)
    assert.equal((await http(`${firmware.node.url}/logs/${hex}/entry-bundles/00/1`)).status, 400)
  })

  it('GET /entries/{id} at a mirror returns the origin\'s receipt, which verifies with the origin\'s key', async () => {
    const iotKey = await receiptKey(iot)
    for (const { id, body } of [registered[0]!, registered[257]!, registered.at(-1)!]) {
      const res = await http(`${containers.node.url}/entries/${id}`)
      assert.equal(res.status, 200)
      assert.equal(res.headers['content-type'], MEDIA_TYPE.cose)
      const receipt = bytes(res)
      assert.deepEqual(receipt, bytes(await http(`${iot.node.url}/entries/${id}`)), 'the origin\'s own receipt')
      verifyReceipt(receipt, { entry: decodeEntry(body) }, iotKey)
    }
    assert.equal((await http(`${containers.node.url}/entries/${'ab'.repeat(32)}`)).status, 404)
  })

  it('a cross-registered statement carries two receipts that both verify', async () => {
    const { id, body } = registered[5]!
    await until(async () => (await firmware.node.log.indexOf(id)) !== undefined, 20_000, 'cross-registration')
    const own = bytes(await http(`${firmware.node.url}/entries/${id}`))
    verifyReceipt(own, { entry: decodeEntry(body) }, await receiptKey(firmware)) // its own log first
    const res = await http(`${firmware.node.url}/entries/${id}/statement`)
    assert.equal(res.status, 200)
    const receipts = getReceipts(bytes(res))
    assert.equal(receipts.length, 2)
    const [firmwareKey, iotKey] = [await receiptKey(firmware), await receiptKey(iot)]
    const atFirmware = verifyReceipt(receipts[0]!, { entry: decodeEntry(body) }, firmwareKey)
    const atIot = verifyReceipt(receipts[1]!, { entry: decodeEntry(body) }, iotKey)
    assert.equal(atIot.iss, keys.iot.origin)
    assert.equal(atFirmware.iss, keys.firmware.origin)
    // The containers node only mirrors: one receipt, IoT's.
    assert.equal(getReceipts(bytes(await http(`${containers.node.url}/entries/${id}/statement`))).length, 1)
    const metrics = (await http(`${firmware.node.url}/metrics`)).body.toString()
    assert.match(metrics, /scitt_cross_registrations_total\{origin="iot.example\/log",outcome="registered"\} [1-9]/)
  })

  it('falls back to a peer\'s HTTP API when it cannot be reached over libp2p (the same resources, checked the same way)', async () => {
    // A federation view whose only peer is the containers mirror, unreachable over libp2p.
    const unreachable: SourceFederation = {
      directory: {
        peersFor: () => [containers.federation.peerId],
        httpUrlOf: (peer: string) => (peer === containers.federation.peerId ? containers.node.url : undefined),
      },
      logData: async () => { throw new Error('connection refused') },
    }
    const source = federationSource(unreachable, 3000)
    const descriptor = openDescriptor(await source.fetch(containers.federation.peerId, keys.iot.origin, 'descriptor'), () => [keys.iot.logVerifier])
    assert.equal(descriptor.origin, keys.iot.origin)
    const coseKey = decodeCoseKey(fromBase64Url(descriptor.receiptKey!))
    const db = new Level<Uint8Array, Uint8Array>(join(root, 'http-mirror'), { keyEncoding: 'view', valueEncoding: 'view' })
    await db.open()
    try {
      const log = await Log.openMirror({ db, files: tempLogFiles(), origin: keys.iot.origin, verifiers: [keys.iot.logVerifier], receiptVerifiers: () => [nodeSignatures.verifier(coseKey.algorithm, coseKey.publicKey)], sync: false })
      const mirror = new Mirror({ origin: keys.iot.origin, log, source, logger: silentLogger() })
      mirror.sync()
      await mirror.idle()
      assert.equal(mirror.size, iot.node.log.latestCheckpoint()!.size)
      assert.deepEqual(await log.receipt(200), await iot.node.log.receipt(200))
      assert.deepEqual(mirror.badPeers(), [])
      await assert.rejects(source.fetch(containers.federation.peerId, 'unknown.example/log', 'checkpoints/0'), (err: unknown) => isScittError(err, 'NOT_FOUND'))
      await log.close()
    } finally {
      await db.close()
    }
  })

  let iotKey: ReturnType<typeof nodeSignatures.verifier>
  it('with the IoT node stopped, the mirrors still serve its entries, receipts and offline proofs', async () => {
    iotKey = await receiptKey(iot)
    await iot.stop()
    const { id, body } = registered[42]!
    const receipt = bytes(await http(`${containers.node.url}/entries/${id}`))
    verifyReceipt(receipt, { entry: decodeEntry(body) }, iotKey)
    const proof = await http(`${containers.node.url}/entries/${id}/proof`)
    assert.equal(proof.status, 200)
    const parsed = parseProofFile(proof.body.toString())
    assert.equal(parsed.index, 42)
    const checkpoint = verifyProofFile(parsed, leafHash(decodeEntry(body)), keys.iot.logVerifier)
    assert.equal(checkpoint.origin, keys.iot.origin)
  })

  it('a new mirror started while IoT is away learns its key and catches up from the other mirrors', async () => {
    const late = initFederatedDir(join(root, 'late'), 'late.example/log', issuer)
    const policy = policyText([keys.iot, keys.firmware, keys.containers, late], [keys.firmware, keys.containers], 1)
    const node = await startFederated(late, { name: NAME, policy, bootstrap: firmware.federation.multiaddrs, mirror: [keys.iot.origin] })
    try {
      const size = firmware.node.mirrors!.get(keys.iot.origin)!.size
      await until(() => node.node.mirrors?.get(keys.iot.origin)?.size === size, 30_000, `the late mirror at ${size}`)
      const { id, body } = registered[123]!
      verifyReceipt(bytes(await http(`${node.node.url}/entries/${id}`)), { entry: decodeEntry(body) }, iotKey)
      assert.deepEqual((await node.node.mirrors!.get(keys.iot.origin)!.log.fsck()).errors, [])
    } finally {
      await node.stop()
    }
  })

  it('scitt-node fsck re-derives the mirrored logs too, with the origin\'s keys', async () => {
    await containers.stop()
    const report = await fsckNode(containers.node.config)
    assert.ok(report.ok, [...report.errors, ...report.mirrors.flatMap((m) => m.errors)].join('; '))
    assert.deepEqual(report.mirrors.map((m) => [m.origin, m.size, m.entries, m.checkpoints]),
      [[keys.iot.origin, 301, 301, (await firmware.node.mirrors!.get(keys.iot.origin)!.log.checkpointsAfter(0, 1000)).length]])
  })
})

/** The entry (leaf) bytes of a statement: as registered, with an empty unprotected header. */
function decodeEntry (body: Uint8Array): Uint8Array {
  return entryBytes(body)
}
