/**
 * Fault suite, poisoned heads over real libp2p (loopback): three honest nodes (each a witness of the
 * 2-of-3 policy, which also trusts the offline vector log) and a raw libp2p peer. The peer gossips the
 * vector log's genuine checkpoint, then the same checkpoint with one genuine cosignature (asked of an
 * honest witness over HTTP) and 98 junk signature lines of unknown keys, then with a second genuine
 * cosignature. Honest nodes must keep only what verifies (the log's and the witnesses' signatures),
 * reach the quorum, and never reject a genuine head because of what a peer added before.
 */
import '../../packages/node/src/p2p/polyfill.js'
import assert from 'node:assert/strict'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { concatBytes, formatAddCheckpointRequest, parseNote, sha256Digest, toBase64, utf8 } from '@scitt/core'
import { createNetwork, encodeCheckpointMessage, type Network } from '@scitt/node'
import { initFederatedDir, policyText, startFederated, until, type FederatedNode } from '../../packages/node/test/federation-helpers.js'
import { http, makeIssuer } from '../../packages/node/test/helpers.js'
import { loadVector } from '../fixtures.js'
import { record } from './report.js'

const NAME = 'poisonnet'
const notes = loadVector('c2sp-notes')
const JUNK_LINES = 98

describe('faults: poisoned heads over real libp2p', function () {
  this.timeout(120_000)
  const issuer = makeIssuer('https://issuer.example')
  let root: string
  let nodes: FederatedNode[] = []
  let hostile: Network | undefined

  before(async () => {
    root = await mkdtemp(join(tmpdir(), 'scitt-faults-poison-'))
    const keys = ['a', 'b', 'w'].map((n) => initFederatedDir(join(root, n), `${n}.example/log`, issuer))
    const policy = policyText(keys, keys, 2).replace('\n', `\nlog ${notes.log_vkey}\n`)
    nodes = [await startFederated(keys[2]!, { name: NAME, policy, bootstrap: [] })]
    for (const k of keys.slice(0, 2)) nodes.push(await startFederated(k, { name: NAME, policy, bootstrap: nodes[0]!.federation.multiaddrs }))
    await until(() => nodes.every((n) => n.federation.network.services.pubsub.getSubscribers(n.federation.topics.checkpoints).length >= 2), 15_000, 'gossip mesh')
    hostile = await createNetwork({
      peerSeed: sha256Digest(utf8('poisoner')),
      listen: ['/ip4/127.0.0.1/tcp/0'],
      bootstrap: nodes.map((n) => `${n.federation.multiaddrs[0]!.split('/p2p/')[0]}/p2p/${n.federation.peerId}`),
      scoredTopics: [],
      heartbeatMs: 200,
    })
    hostile.services.pubsub.subscribe(nodes[0]!.federation.topics.checkpoints)
    await until(() => hostile!.services.pubsub.getSubscribers(nodes[0]!.federation.topics.checkpoints).length >= nodes.length, 10_000, 'the poisoner joins the mesh')
  })

  after(async () => {
    await Promise.resolve(hostile?.stop()).catch(() => {})
    for (const n of nodes) await n.stop().catch(() => {})
    await rm(root, { recursive: true, force: true })
  })

  /** The cosignature line of a node's witness on the vector checkpoint (size 4), asked over HTTP. */
  async function cosignatureOf (n: FederatedNode): Promise<string> {
    const res = await http(`${n.node.url}/add-checkpoint`, { method: 'POST', body: formatAddCheckpointRequest({ oldSize: 0, proof: [], checkpoint: notes.checkpoint4 }) })
    assert.equal(res.status, 200, res.body.toString())
    return res.body.toString('utf8')
  }

  const publish = async (note: string): Promise<void> => {
    await hostile!.services.pubsub.publish(nodes[0]!.federation.topics.checkpoints, encodeCheckpointMessage({ note, seal: undefined }))
  }
  const headOf = (n: FederatedNode): ReturnType<FederatedNode['federation']['heads']['latest']> => n.federation.heads.latest('example.com/scitt-log')

  it('keeps only verified signatures of policy keys, reaches the quorum, and relayers are not penalised', async () => {
    const origin = 'example.com/scitt-log'
    await publish(notes.checkpoint4)
    await until(() => nodes.every((n) => headOf(n)?.size === 4), 8000, 'every node sees the log-only checkpoint')

    const junk = Array.from({ length: JUNK_LINES }, (_, i) => `— junk${i}.example/key ${toBase64(concatBytes(sha256Digest(utf8(`junk ${i}`)).subarray(0, 4), new Uint8Array(64).fill(i)))}\n`).join('')
    const poisoned = notes.checkpoint4 + await cosignatureOf(nodes[0]!) + junk
    assert.equal(parseNote(poisoned).signatures.length, 2 + JUNK_LINES, 'the poisoned note parses')
    await publish(poisoned)
    await until(() => nodes.every((n) => (headOf(n)?.witnesses.length ?? 0) >= 1), 8000, 'every node takes the genuine cosignature of the poisoned note')
    for (const n of nodes) {
      const head = headOf(n)!
      assert.ok(!head.note.includes('junk'), `${n.keys.origin} stored junk signature lines in its head (${head.note.length} bytes)`)
      assert.equal(head.signatures.length, 2, 'the log signature and one cosignature')
    }

    await publish(notes.checkpoint4 + await cosignatureOf(nodes[1]!))
    await until(() => nodes.every((n) => headOf(n)?.quorum === true), 8000, 'every node reaches the quorum with the second genuine cosignature')
    const sizes = nodes.map((n) => headOf(n)!.note.length)
    // No honest node holds another honest node to account for what it relayed.
    for (const n of nodes) {
      for (const other of nodes) {
        if (other === n) continue
        const score = (n.federation.network.services.pubsub as unknown as { getScore: (id: string) => number }).getScore(other.federation.peerId)
        assert.ok(score >= 0, `${n.keys.origin} scored the honest ${other.keys.origin} down to ${score}`)
      }
    }
    record({
      scenario: 'poisoned heads: junk signature lines merged',
      cases: 3,
      faults: JUNK_LINES,
      acknowledged: 0,
      found: 0,
      result: 'pass',
      notes: `${origin} size 4 on 3 nodes: ${JUNK_LINES} junk lines (${poisoned.length} B note) never stored; heads ${Math.min(...sizes)}–${Math.max(...sizes)} B with 3 verified signatures, quorum everywhere; honest peers' scores ≥ 0`,
    })
  })
})
