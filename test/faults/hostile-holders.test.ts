/**
 * Fault suite, a mirror against hostile holders over real libp2p (loopback): an origin registry takes
 * registrations and goes away; two trusted registries that announce mirroring it serve its log over
 * the log-data protocol, one stripping every receipt seal, the other adding a signature line of an
 * unknown key to every checkpoint. A real mirror node that starts from zero must store nothing from
 * the first, keep only the origin's own signature lines from the second, and serve the origin's
 * checkpoint and receipts, byte for byte, for every entry the origin acknowledged.
 */
import '../../packages/node/src/p2p/polyfill.js'
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Level } from 'level'
import {
  decodeSign1, ed25519NoteSigner, entryBytes, entryId, formatNote, fromUtf8, noteSignerFromSkey, originHash, parseNote, sha256Digest, signNote, utf8, verifyReceipt,
  type NoteSigner,
} from '@scitt/core'
import { nodeSignatures } from '@scitt/node-crypto'
import { LEVELDB_OPTIONS, Log } from '@scitt/log'
import { createNetwork, encodeCheckpointMessage, signDescriptor, type Network } from '@scitt/node'
import { decodeCheckpointList, decodeLogDataAnswer, encodeCheckpointList, serveLogData } from '../../packages/node/src/federation/log-data.js'
import { Protocols } from '../../packages/node/src/federation/protocols.js'
import { topicIds } from '../../packages/node/src/federation/gossip.js'
import { encodeAnswer } from '../../packages/node/src/federation/answer.js'
import { initFederatedDir, policyText, startFederated, until, type FederatedNode, type NodeKeys } from '../../packages/node/test/federation-helpers.js'
import { http, makeIssuer, post, statement } from '../../packages/node/test/helpers.js'
import { record } from './report.js'
import { ownLogFiles } from '../../packages/node/src/data-dir.js'

const NAME = 'holdersnet'
const ENTRIES = 40

type Tamper = (resource: string, body: Uint8Array) => Uint8Array

describe('faults: a mirror against hostile holders over real libp2p', function () {
  this.timeout(120_000)
  const issuer = makeIssuer('https://issuer.example')
  let root: string
  const running: Array<{ stop: () => Promise<unknown> }> = []

  before(async () => { root = await mkdtemp(join(tmpdir(), 'scitt-faults-holders-')) })
  after(async () => {
    for (const r of running.reverse()) await r.stop().catch(() => {})
    await rm(root, { recursive: true, force: true })
  })

  const logSigner = (keys: NodeKeys): NoteSigner => noteSignerFromSkey(readFileSync(join(keys.dir, 'log.key'), 'utf8').trim(), nodeSignatures)

  /**
   * A holder: a raw libp2p peer with a trusted registry's log key that announces mirroring the origin
   * and answers log-data requests from the origin's data, through `tamper`; it refuses everything else.
   */
  async function holder (label: string, keys: NodeKeys, origin: string, log: Log, descriptor: Uint8Array, tamper: Tamper, bootstrap: string[]): Promise<{ network: Network, answered: () => number }> {
    const network = await createNetwork({ peerSeed: sha256Digest(utf8(`holder ${label}`)), listen: ['/ip4/127.0.0.1/tcp/0'], bootstrap, scoredTopics: [], heartbeatMs: 200 })
    let answered = 0
    const refuse = async (): Promise<Uint8Array> => encodeAnswer({ refused: { code: 'NOT_FOUND', reason: 'not here' } })
    await new Protocols(network, NAME, 3000).serve({
      logData: async (body) => {
        const answer = await serveLogData(body, { log: (o) => (o === origin ? log : undefined), descriptor: (o) => (o === origin ? descriptor : undefined) })
        const resource = new TextDecoder().decode(body).split('\n')[1]!
        if (fromUtf8(answer.subarray(0, 3)) !== 'ok\n') return answer
        answered++
        return encodeAnswer({ ok: tamper(resource, decodeLogDataAnswer(answer)) })
      },
      head: refuse,
      consistency: refuse,
      addCheckpoint: refuse,
    })
    const topics = topicIds(NAME)
    for (const t of Object.values(topics)) network.services.pubsub.subscribe(t)
    // Announced each second, with that second as its time (gossip drops a repeated message as seen).
    const signer = logSigner(keys)
    const announce = (): void => {
      const signed = utf8(signDescriptor({
        origin: keys.origin, peer: network.peerId.toString(), addrs: network.getMultiaddrs().map(String), roles: ['mirror'], mirrors: [origin], time: Math.floor(Date.now() / 1000),
      }, signer))
      network.services.pubsub.publish(topics.announce, signed).catch(() => {})
    }
    const timer = setInterval(announce, 1000)
    running.push({ stop: async () => { clearInterval(timer); await network.stop() } })
    return { network, answered: () => answered }
  }

  it('stores nothing a seal-stripping holder sends, only the origin\'s lines from a junk-adding one, and serves the origin\'s receipts', async () => {
    const names = ['origin', 'mirror', 'stripper', 'junker']
    const keys = names.map((n) => initFederatedDir(join(root, n), `${n}.example/log`, issuer))
    const [originKeys, mirrorKeys, stripperKeys, junkerKeys] = keys as [NodeKeys, NodeKeys, NodeKeys, NodeKeys]
    const policy = policyText(keys, [originKeys, mirrorKeys], 1)

    // The origin takes registrations (each acknowledged with a receipt), then goes away.
    const origin: FederatedNode = await startFederated(originKeys, { name: NAME, policy, bootstrap: [] })
    const bodies = Array.from({ length: ENTRIES }, (_, i) => statement(issuer, { payload: utf8(`hostile holders ${i}`) }))
    for (const body of bodies) assert.equal((await post(origin.node.url, body)).status, 201)
    const descriptor = origin.federation.directory.own!
    const originNote = origin.node.log.latestCheckpoint()!.note
    const receiptKey = origin.node.receiptKey
    const receiptVerifier = nodeSignatures.verifier(receiptKey.coseKey.algorithm, receiptKey.coseKey.publicKey)
    await origin.stop()

    // Its data, read by the holders (a closed node's LevelDB, opened as a mirror: it never signs).
    const db = new Level<Uint8Array, Uint8Array>(join(originKeys.dir, 'data'), LEVELDB_OPTIONS)
    await db.open()
    const data = await Log.openMirror({ db, files: ownLogFiles(join(originKeys.dir, 'data')), origin: originKeys.origin, verifiers: [originKeys.logVerifier], receiptVerifiers: () => [receiptVerifier], sync: false })
    running.push({ stop: async () => { await data.close(); await db.close() } })
    assert.equal(data.latestCheckpoint()?.note, originNote)

    let stripped = 0
    let junked = 0
    const stripper = await holder('stripper', stripperKeys, originKeys.origin, data, descriptor, (resource, body) => {
      if (!resource.startsWith('checkpoints/')) return body
      const list = decodeCheckpointList(body)
      stripped += list.length
      return encodeCheckpointList(list.map((cp) => ({ note: cp.note, seal: undefined })))
    }, [])
    const junkKey = ed25519NoteSigner('junk.example/key', sha256Digest(utf8('junk')), nodeSignatures)
    const junkerTamper: Tamper = (resource, body) => {
      if (!resource.startsWith('checkpoints/')) return body
      const list = decodeCheckpointList(body)
      junked += list.length
      return encodeCheckpointList(list.map((cp) => {
        const note = parseNote(cp.note)
        return { note: formatNote({ text: note.text, signatures: [...note.signatures, ...signNote(note.text, [junkKey]).signatures] }), seal: cp.seal }
      }))
    }

    // The mirror starts from zero with only the stripper around: nothing it sends is stored.
    const mirror = await startFederated(mirrorKeys, { name: NAME, policy, bootstrap: stripper.network.getMultiaddrs().map(String), mirror: [originKeys.origin] })
    running.push(mirror)
    await until(() => mirror.node.mirrors?.get(originKeys.origin)?.badPeers().some((b) => b.peer === stripper.network.peerId.toString()) === true, 30_000, 'the mirror catches the stripper')
      .catch((err: unknown) => { throw new Error(`${(err as Error).message}; mirrors: ${JSON.stringify(mirror.node.mirrors?.statusJson())}; the stripper answered ${stripper.answered()}`) })
    const m = mirror.node.mirrors!.get(originKeys.origin)!
    assert.equal(m.size, 0, 'nothing of the stripper\'s answers is stored')
    assert.match(m.badPeers()[0]!.error, /^MALFORMED: .*receipt seal/)

    // The junker joins and gossips the origin's head: the mirror catches up from it.
    const junker = await holder('junker', junkerKeys, originKeys.origin, data, descriptor, junkerTamper, mirror.federation.multiaddrs)
    const head = data.latestCheckpoint()!
    const topics = topicIds(NAME)
    await until(async () => {
      await junker.network.services.pubsub.publish(topics.checkpoints, encodeCheckpointMessage({ note: head.note, seal: head.seal })).catch(() => {})
      return m.size === head.size
    }, 60_000, 'the mirror catches up from the junker')
    assert.ok(junked > 0 && stripped > 0, `both holders answered (stripped ${stripped}, junked ${junked})`)

    // It serves the origin's checkpoint and the origin's own receipts, which verify under the origin's key.
    const hash = originHash(originKeys.origin)
    const served = await http(`${mirror.node.url}/logs/${hash}/checkpoint`)
    assert.equal(served.status, 200)
    assert.equal(served.body.toString('utf8'), originNote)
    let found = 0
    for (const body of bodies) {
      const id = entryId(entryBytes(decodeSign1(body)))
      const res = await http(`${mirror.node.url}/entries/${id}`)
      if (res.status !== 200) continue
      const receipt = new Uint8Array(res.body)
      verifyReceipt(receipt, { entry: entryBytes(decodeSign1(body)) }, receiptVerifier)
      assert.deepEqual(receipt, await data.receipt(id))
      found++
    }
    record({
      scenario: 'mirror against hostile holders (seals stripped, junk lines)',
      cases: 2,
      faults: stripped + junked,
      acknowledged: ENTRIES,
      found,
      result: found === ENTRIES && m.size === head.size ? 'pass' : 'fail',
      notes: `${stripped} checkpoints sent without seals (stored 0), ${junked} with a junk line (stored the origin's note); ${found} receipts from the mirror = the origin's`,
    })
    assert.equal(found, ENTRIES)
  })
})
