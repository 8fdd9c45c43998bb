/**
 * Issue #7's whole path with the CLI as subprocesses against real nodes on 127.0.0.1 (ScittNode: HTTP,
 * LevelDB, libp2p over TCP), a receipt FETCHED FROM ANOTHER PEER: statements registered at the IoT
 * registry are fetched from the containers node (a mirror of IoT) and from the firmware node (a mirror
 * that cross-registers IoT's entries), and verified offline against a 2-of-3 witness policy.
 *
 * keygen → sign → register (IoT) → keys → get --wait (receipt and proof from the mirror; the statement
 * with two receipts from firmware) → verify with the policy quorum. Then what cli.test.ts checks on
 * hand-made files, here on the fetched ones: a tampered statement, receipt, proof or checkpoint exits 1
 * naming the failed check, and so does a policy whose quorum these checkpoints do not meet.
 */
import assert from 'node:assert/strict'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { decodeSign1, encodeSign1, formatProofFile, parseCheckpoint, parseNote, parseProofFile, sha256Digest, utf8 } from '@scitt/core'
import { initFederatedDir, policyText, startFederated, type FederatedNode, type NodeKeys } from '../../node/test/federation-helpers.js'
import { makeIssuer } from '../../node/test/helpers.js'
import { scitt, type Run } from './run-cli.js'

const NAME = 'client-mirrornet'

describe('the CLI against a federation: a receipt fetched from a mirror, verified with a policy quorum', function () {
  this.timeout(120_000)
  let root: string
  let keys: Record<'iot' | 'firmware' | 'containers', NodeKeys>
  const nodes: FederatedNode[] = []
  const file = (name: string): string => join(root, name)
  const ok = (r: Run, what: string): Run => {
    assert.equal(r.code, 0, `${what}: ${r.stdout}${r.stderr}`)
    return r
  }

  before(async () => {
    root = mkdtempSync(join(tmpdir(), 'scitt-client-mirror-'))
    // The nodes' registration policies accept any did:key issuer, as the devnet's registries do.
    const placeholder = makeIssuer('https://unused.example')
    keys = {
      iot: initFederatedDir(join(root, 'iot'), 'iot.example/log', placeholder),
      firmware: initFederatedDir(join(root, 'firmware'), 'firmware.example/log', placeholder),
      containers: initFederatedDir(join(root, 'containers'), 'containers.example/log', placeholder),
    }
    const all = [keys.iot, keys.firmware, keys.containers]
    const policy = policyText(all, all, 2)
    writeFileSync(file('federation.policy'), policy)
    writeFileSync(file('strict.policy'), policyText(all, all, 3))
    const openRegistration = (raw: Record<string, any>): void => { raw.registration.didKey.enabled = true }  
    const iot = await startFederated(keys.iot, { name: NAME, policy, bootstrap: [], configure: openRegistration })
    nodes.push(iot)
    const bootstrap = iot.federation.multiaddrs
    nodes.push(await startFederated(keys.firmware, { name: NAME, policy, bootstrap, mirror: [keys.iot.origin], crossRegister: [keys.iot.origin], configure: openRegistration }))
    // Containers mirrors IoT only: the entry is in one log there, so its receipt is IoT's. (A node holding
    // the entry in several mirrors answers with the receipt of one of them.)
    nodes.push(await startFederated(keys.containers, { name: NAME, policy, bootstrap, mirror: [keys.iot.origin], configure: openRegistration }))
  })

  after(async () => {
    for (const n of nodes.reverse()) await n.stop().catch(() => {})
    if (root !== undefined) rmSync(root, { recursive: true, force: true })
  })

  it('keygen → sign → register at IoT → get from the mirrors with --wait → verify with the quorum; tampering fails', async () => {
    const [iot, firmware, containers] = nodes.map((n) => n.node.url) as [string, string, string]
    ok(await scitt('keygen', '--out', file('issuer.jwk')), 'keygen')
    writeFileSync(file('sbom.json'), '{"sbom": "app@1.0"}')
    writeFileSync(file('other.json'), '{"sbom": "lib@2.0"}')
    const signs = await Promise.all(['sbom', 'other'].map(async (n) => scitt('sign', '--key', file('issuer.jwk'), '--iss', 'did:key', '--sub', `pkg:${n}`, '--content-type', 'application/spdx+json', '--out', file(`${n}.cose`), file(`${n}.json`))))
    signs.forEach((s) => ok(s, 'sign'))
    const registered = ok(await scitt('register', '--node', iot, '--wait', file('sbom.cose'), file('other.cose')), 'register at IoT')
    const id = /^([0-9a-f]{64}) {2}registered/m.exec(registered.stdout)?.[1] ?? assert.fail(registered.stdout)

    // The relying party trusts IoT's and firmware's receipt keys, and fetches from the mirrors only.
    ok(await scitt('keys', '--node', iot, '--out', file('iot-keys.cbor')), 'keys iot')
    ok(await scitt('keys', '--node', firmware, '--out', file('firmware-keys.cbor')), 'keys firmware')
    const fetched = await Promise.all([
      scitt('get', id, '--node', containers, '--wait', '15', '--out', file('sbom.receipt')),
      scitt('get', id, '--node', containers, '--proof', '--policy', file('federation.policy'), '--wait', '15', '--out', file('sbom.tlog-proof')),
      scitt('get', id, '--node', firmware, '--statement', '--min-receipts', '2', '--wait', '15', '--out', file('sbom.transparent.cose')),
      scitt('get', id, '--node', firmware, '--proof', '--policy', file('federation.policy'), '--wait', '15', '--out', file('firmware.tlog-proof')),
      scitt('get', id, '--node', iot, '--out', file('iot.receipt')),
    ])
    fetched.forEach((r, i) => ok(r, `get #${i}`))
    assert.deepEqual(readFileSync(file('sbom.receipt')), readFileSync(file('iot.receipt')), 'the mirror answers with IoT\'s own receipt, byte for byte')
    const checkpointOrigin = (proof: string): string => parseCheckpoint(parseNote(parseProofFile(readFileSync(proof, 'utf8')).checkpoint).text).origin
    assert.equal(checkpointOrigin(file('sbom.tlog-proof')), keys.iot.origin, 'the mirror\'s proof carries IoT\'s checkpoint')
    assert.equal(checkpointOrigin(file('firmware.tlog-proof')), keys.firmware.origin, 'firmware holds the entry in its own log first')

    const policy = ['--policy', file('federation.policy')]
    const [receipt, statement, proof] = await Promise.all([
      // IoT's receipt, from the containers mirror, bound to IoT's cosigned checkpoint (consistency from the mirror's tiles).
      scitt('verify', file('sbom.receipt'), '--statement', file('sbom.cose'), '--node-keys', file('iot-keys.cbor'), '--allow-did-key', ...policy, '--proof', file('sbom.tlog-proof'), '--node', containers),
      // Firmware's transparent statement: its own receipt and IoT's, each bound to its log's cosigned
      // checkpoint (consistency from firmware's tiles: its own log and its mirror of IoT).
      scitt('verify', file('sbom.transparent.cose'), '--node-keys', file('iot-keys.cbor'), '--node-keys', file('firmware-keys.cbor'), '--allow-did-key', ...policy,
        '--proof', file('sbom.tlog-proof'), '--proof', file('firmware.tlog-proof'), '--node', firmware),
      scitt('verify', file('sbom.tlog-proof'), '--statement', file('sbom.cose'), '--allow-did-key', ...policy),
    ])
    ok(receipt, 'verify the mirrored receipt')
    assert.match(receipt.stdout, /ok\s+checkpoint\[0\]\s+iot\.example\/log at size \d+, cosigned by /)
    assert.match(receipt.stdout, /ok\s+receipt\[0\]\s+included at index \d of iot\.example\/log's tree/)
    assert.match(receipt.stdout, /ok\s+receipt\[0\]\.witnessed/)
    assert.match(receipt.stdout, new RegExp(`verified entry ${id}`))
    ok(statement, 'verify the transparent statement from firmware')
    assert.match(statement.stdout, /ok\s+receipt\[0\]\s+included at index \d of firmware\.example\/log's tree/)
    assert.match(statement.stdout, /ok\s+receipt\[1\]\s+included at index \d of iot\.example\/log's tree/)
    assert.match(statement.stdout, /ok\s+receipt\[0\]\.witnessed/)
    assert.match(statement.stdout, /ok\s+receipt\[1\]\.witnessed/)
    ok(proof, 'verify the mirror\'s proof')
    assert.match(proof.stdout, /ok\s+proof\.witness-quorum/)
    assert.match(proof.stdout, /ok\s+proof\.inclusion/)

    // Tampered copies of what the mirrors sent.
    const ts = decodeSign1(new Uint8Array(readFileSync(file('sbom.transparent.cose'))))
    writeFileSync(file('bad.transparent.cose'), encodeSign1({ ...ts, payload: utf8('{"sbom": "evil@1.0"}') }))
    const badReceipt = new Uint8Array(readFileSync(file('sbom.receipt')))
    badReceipt[badReceipt.length - 1]! ^= 1
    writeFileSync(file('bad.receipt'), badReceipt)
    const parsed = parseProofFile(readFileSync(file('sbom.tlog-proof'), 'utf8'))
    assert.ok(parsed.proof.length > 0, 'the proof has hashes to tamper with')
    writeFileSync(file('bad-hash.tlog-proof'), formatProofFile({ ...parsed, proof: [sha256Digest(parsed.proof[0]!), ...parsed.proof.slice(1)] }))
    const cp = parseNote(parsed.checkpoint)
    const root64 = parseCheckpoint(cp.text).rootHash
    writeFileSync(file('bad-checkpoint.tlog-proof'), formatProofFile({ ...parsed, checkpoint: parsed.checkpoint.replace(Buffer.from(root64).toString('base64'), Buffer.from(sha256Digest(root64)).toString('base64')) }))

    const keysAndDid = ['--node-keys', file('iot-keys.cbor'), '--node-keys', file('firmware-keys.cbor'), '--allow-did-key']
    const cases: Array<[string, string[], RegExp]> = [
      ['statement', ['verify', file('bad.transparent.cose'), ...keysAndDid], /FAILED\s+issuer-signature\s+BAD_SIGNATURE/],
      ['receipt', ['verify', file('bad.receipt'), '--statement', file('sbom.cose'), ...keysAndDid, ...policy, '--proof', file('sbom.tlog-proof')], /FAILED\s+receipt\[0\]\s+BAD_SIGNATURE/],
      ['proof', ['verify', file('bad-hash.tlog-proof'), '--entry', id, ...policy], /FAILED\s+proof\.inclusion\s+BAD_PROOF/],
      ['checkpoint', ['verify', file('sbom.receipt'), '--statement', file('sbom.cose'), ...keysAndDid, ...policy, '--proof', file('bad-checkpoint.tlog-proof')], /FAILED\s+checkpoint\[0\]\s+BAD_SIGNATURE/],
      ['quorum of a proof', ['verify', file('sbom.tlog-proof'), '--entry', id, '--policy', file('strict.policy')], /FAILED\s+proof\.witness-quorum\s+POLICY/],
      ['quorum of a receipt\'s checkpoint', ['verify', file('sbom.receipt'), '--statement', file('sbom.cose'), ...keysAndDid, '--policy', file('strict.policy'), '--proof', file('sbom.tlog-proof')], /FAILED\s+checkpoint\[0\]\s+POLICY/],
    ]
    const runs = await Promise.all(cases.map(async ([, args]) => scitt(...args)))
    runs.forEach((r, i) => {
      const [what, , pattern] = cases[i]!
      assert.equal(r.code, 1, `tampered ${what}: ${r.stdout}${r.stderr}`)
      assert.match(r.stdout, pattern, `tampered ${what}`)
      assert.match(r.stdout, /verification FAILED: /)
    })
  })
})
