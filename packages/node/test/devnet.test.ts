/**
 * `scitt-node devnet` in process: four real nodes (three registries open to did:key issuers, one
 * witness) meshed over libp2p on loopback, every log cosigned to the shared policy's quorum, a
 * registration at one registry seen and cosigned by the others, mirrored by them (and cross-registered
 * by firmware), devnet.json describing the network, and a restart on the same directory reusing keys
 * and data.
 */
import '../src/p2p/polyfill.js'
import assert from 'node:assert/strict'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { checkCosignedCheckpoint, didKeyFromPublicKey, getReceipts, leafHash, parsePolicy, toHex } from '@scitt/core'
import { nodeSignatures } from '@scitt/node-crypto'
import { DEVNET_NODES, Devnet, type DevnetInfo } from '../src/devnet.js'
import { until } from './federation-helpers.js'
import { bytes, http, makeIssuer, post, statement } from './helpers.js'

describe('devnet (4 nodes in one process, loopback)', function () {
  this.timeout(60_000)
  let dir: string
  before(async () => { dir = await mkdtemp(join(tmpdir(), 'scitt-devnet-')) })
  after(async () => { await rm(dir, { recursive: true, force: true }) })

  it('starts meshed and cosigning, registers with did:key, describes itself, and restarts on the same keys and data', async () => {
    let devnet = await Devnet.start({ dir, basePort: 0 })
    let info: DevnetInfo
    let entrySize: number
    try {
      info = JSON.parse(await readFile(join(dir, 'devnet.json'), 'utf8')) as DevnetInfo
      assert.equal(info.federation, 'scitt-devnet')
      assert.deepEqual(info.topics, { checkpoints: '/scitt/scitt-devnet/checkpoints/1', evidence: '/scitt/scitt-devnet/evidence/1', announce: '/scitt/scitt-devnet/announce/1' })
      assert.deepEqual(info.nodes.map((n) => [n.name, n.sector, n.origin]), DEVNET_NODES.map((n) => [n.name, n.sector ?? null, n.origin]))
      const policyText = await readFile(join(dir, 'devnet.policy'), 'utf8')
      const policy = parsePolicy(policyText, nodeSignatures)
      assert.equal(policy.logs.length, 4)
      assert.equal(policy.witnesses.size, 4)
      for (const n of info.nodes) {
        assert.match(n.url, /^http:\/\/127\.0\.0\.1:\d+$/)
        assert.match(n.multiaddr, new RegExp(`^/ip4/127\\.0\\.0\\.1/tcp/\\d+/p2p/${n.peerId}$`))
        assert.ok(policyText.includes(`log ${n.logVkey}\n`) && policyText.includes(` ${n.witnessVkey}\n`))
        assert.match(n.receiptKey, /^[A-Za-z0-9_-]+$/)
        // Every node's served checkpoint meets the policy's quorum (2 of the 4 witnesses, never its own).
        const res = await http(`${n.url}/checkpoint`)
        assert.ok(checkCosignedCheckpoint(policy, res.body.toString('utf8')).witnesses.length >= 2, n.name)
        assert.equal((await http(`${n.url}/readyz`)).status, 200)
      }

      // The registries accept a fresh did:key issuer; the witness accepts nobody.
      const key = makeIssuer('unused')
      const issuer = { ...key, iss: didKeyFromPublicKey('Ed25519', key.signer.publicKey) }
      const iot = devnet.node('iot')
      assert.equal((await post(iot.url, statement(issuer))).status, 201)
      assert.notEqual((await post(devnet.node('witness').url, statement(issuer))).status, 201)
      entrySize = iot.log.latestCheckpoint()!.size
      assert.equal(entrySize, 1)
      await until(() => devnet.nodes.every((n) => n.federation!.heads.latest('devnet.localhost/iot')?.quorum === true &&
        n.federation!.heads.latest('devnet.localhost/iot')?.size === entrySize), 10_000, 'every node sees the cosigned head')
      // Every other node mirrors the IoT log and answers for the entry with IoT's own receipt; firmware
      // also cross-registers it, so its transparent statement carries two receipts.
      assert.deepEqual(info.nodes.map((n) => [n.name, n.mirrors, n.crossRegisters]), DEVNET_NODES.map((n) => [n.name, n.mirror.map((m) => `devnet.localhost/${m}`), n.crossRegister.map((m) => `devnet.localhost/${m}`)]))
      const entryId = toHex(leafHash(await iot.log.entry(0)))
      const iotReceipt = bytes(await http(`${iot.url}/entries/${entryId}`))
      for (const name of ['firmware', 'containers', 'witness']) {
        const node = devnet.node(name)
        await until(async () => (await node.mirrors!.get('devnet.localhost/iot')?.log.indexOf(entryId)) !== undefined, 10_000, `${name} mirrors the entry`)
        if (name !== 'firmware') assert.deepEqual(bytes(await http(`${node.url}/entries/${entryId}`)), iotReceipt, name)
      }
      const firmware = devnet.node('firmware')
      await until(async () => (await firmware.log.indexOf(entryId)) !== undefined, 10_000, 'firmware cross-registers the entry')
      assert.equal(getReceipts(bytes(await http(`${firmware.url}/entries/${entryId}/statement`))).length, 2)
    } finally {
      await devnet.stop()
    }

    devnet = await Devnet.start({ dir, basePort: 0 })
    try {
      const again = JSON.parse(await readFile(join(dir, 'devnet.json'), 'utf8')) as DevnetInfo
      assert.deepEqual(again.nodes.map((n) => [n.logVkey, n.witnessVkey, n.receiptKey, n.peerId]), info.nodes.map((n) => [n.logVkey, n.witnessVkey, n.receiptKey, n.peerId]))
      assert.equal(devnet.node('iot').log.latestCheckpoint()!.size, entrySize, 'the data is reused')
    } finally {
      await devnet.stop()
    }
  })

  it('rejects a base port whose range does not fit', async () => {
    await assert.rejects(Devnet.start({ dir, basePort: 65534 }), RangeError)
  })
})
