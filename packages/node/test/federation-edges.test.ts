/**
 * Two edges of the federation, with real nodes on 127.0.0.1: a node that stops gossips its last
 * checkpoint (the one integrating its queue at shutdown) and has it cosigned before it leaves; and a
 * witness that is not a libp2p peer (an external C2SP witness, listed in the policy with its URL) is
 * reached over HTTP `POST /add-checkpoint`.
 */
import '../src/p2p/polyfill.js'
import assert from 'node:assert/strict'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { checkCosignedCheckpoint, parsePolicy } from '@scitt/core'
import { nodeSignatures } from '@scitt/node-crypto'
import { initFederatedDir, startFederated, until, type FederatedNode } from './federation-helpers.js'
import { http, makeIssuer, post, statement } from './helpers.js'

describe('federation edges (loopback)', function () {
  this.timeout(30_000)
  const issuer = makeIssuer('https://issuer.example')
  let root: string
  let running: FederatedNode[] = []

  beforeEach(async () => { root = await mkdtemp(join(tmpdir(), 'scitt-fed-edges-')) })
  afterEach(async () => {
    for (const n of running) await n.stop().catch(() => {})
    running = []
    await rm(root, { recursive: true, force: true })
  })

  it('a stopping node gossips the checkpoint that integrates its queue, cosigned, before it leaves', async () => {
    const origin = initFederatedDir(join(root, 'origin'), 'origin.example/log', issuer)
    const witness = initFederatedDir(join(root, 'witness'), 'witness.example/log', issuer)
    const policy = `log ${origin.logVkey}\nlog ${witness.logVkey}\nwitness w0 ${witness.witnessVkey}\nquorum w0\n`
    const w = await startFederated(witness, { name: 'edges', policy, bootstrap: [] })
    running.push(w)
    const o = await startFederated(origin, {
      name: 'edges',
      policy,
      bootstrap: w.federation.multiaddrs,
      // Nothing integrates until the node stops: the registration stays pending past the stop deadline.
      // (The federation's request timeout also bounds how long a stopping node waits for its last cosigning.)
      configure: (raw) => { raw.log.batchAgeMs = 60_000; raw.limits.registrationWaitMs = 50; raw.federation.timeoutMs = 10_000 },
      stopTimeoutMs: 200,
    })
    running.push(o)
    // The origin must have found its witness (its descriptor) first: a stopping node does not wait for
    // witnesses it has no way to reach. Its first checkpoint, cosigned, shows it has.
    await until(() => w.federation.heads.latest(origin.origin)?.quorum === true, 10_000, 'the origin\'s first checkpoint, cosigned by its witness')
    assert.equal((await post(o.node.url, statement(issuer))).status, 303)
    assert.equal(w.federation.heads.latest(origin.origin)!.size, 0)
    await o.stop()
    assert.equal(o.node.log.latestCheckpoint()!.size, 1, 'the queue was integrated at stop')
    await until(() => w.federation.heads.latest(origin.origin)?.size === 1, 10_000, 'the last checkpoint reaches the peer')
    await until(() => w.federation.heads.latest(origin.origin)?.quorum === true, 10_000, 'the last checkpoint arrives cosigned')
  })

  it('reaches a witness that is not a libp2p peer over HTTP POST /add-checkpoint (C2SP tlog-witness)', async () => {
    const origin = initFederatedDir(join(root, 'origin'), 'origin.example/log', issuer)
    const external = initFederatedDir(join(root, 'external'), 'external.example/log', issuer)
    // The external witness runs in another federation: no libp2p peering, only its HTTP URL.
    const x = await startFederated(external, { name: 'elsewhere', policy: `log ${origin.logVkey}\nquorum none\n`, bootstrap: [] })
    running.push(x)
    const policy = `log ${origin.logVkey}\nwitness ext ${external.witnessVkey} ${x.node.url}\nquorum ext\n`
    const o = await startFederated(origin, { name: 'edges', policy, bootstrap: [] })
    running.push(o)
    assert.equal((await post(o.node.url, statement(issuer))).status, 201)
    await until(() => {
      const note = o.federation.cosignedCheckpoint()
      try {
        return note !== undefined && checkCosignedCheckpoint(parsePolicy(policy, nodeSignatures), note).checkpoint.size === 1
      } catch {
        return false // not cosigned yet
      }
    }, 10_000, 'a checkpoint cosigned by the external witness')
    assert.deepEqual(checkCosignedCheckpoint(parsePolicy(policy, nodeSignatures), (await http(`${o.node.url}/checkpoint`)).body.toString()).witnesses, ['ext'])
    assert.equal(o.federation.network.getPeers().length, 0, 'no libp2p connection was involved')
    const metrics = (await http(`${x.node.url}/metrics`)).body.toString()
    assert.match(metrics, /scitt_http_request_duration_seconds_count\{method="POST",route="add-checkpoint",status="200"\} [1-9]/)
  })
})
