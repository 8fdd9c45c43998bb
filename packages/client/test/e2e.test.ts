/**
 * The whole path against a real node (scitt-node, started in-process on 127.0.0.1 port 0 with a temp
 * LevelDB directory): keygen → sign → register → get → keys → verify with the CLI as a subprocess, and
 * the SDK's register / fetch / verify / follow against the same node.
 */
import assert from 'node:assert/strict'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { decodeSign1, didKeyFromPublicKey, entryBytes, entryId, noteVerifierFromVkey, parsePolicy, portableSignatures, utf8 } from '@scitt/core'
import { nodeSignatures } from '@scitt/node-crypto'
import { ScittNode, initNode, loadConfig } from '@scitt/node'
import {
  LogFollower, fetchNodeKeys, fetchProof, fetchTransparentStatement, register, secretKeyJwk, signStatement,
  signerFromJwk, verifyProof, verifyTransparentStatement,
} from '@scitt/client'
import { scitt } from './run-cli.js'

describe('end to end with a real node', function () {
  this.timeout(60_000)
  let dir: string
  let node: ScittNode
  let url: string
  let logVkey: string
  const file = (name: string): string => join(dir, name)

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'scitt-e2e-'))
    const init = initNode({ dir: join(dir, 'node'), origin: 'example.com/e2e', port: 0 })
    const raw = JSON.parse(readFileSync(init.config, 'utf8'))
    raw.log.batchAgeMs = 10
    raw.log.sync = false
    raw.limits.verifyWorkers = 1
    raw.limits.rateLimit = null
    raw.registration.didKey.enabled = true
    writeFileSync(init.config, JSON.stringify(raw))
    node = await ScittNode.start({ config: loadConfig(init.config) })
    url = node.url
    logVkey = init.logVkey
    writeFileSync(file('policy.txt'), `log ${logVkey}\nquorum none\n`)
  })

  after(async () => {
    await node?.stop()
    rmSync(dir, { recursive: true, force: true })
  })

  it('CLI: keygen → sign → register → get → keys → verify, and monitor', async () => {
    assert.equal((await scitt('keygen', '--out', file('issuer.jwk'), '--alg', 'ES256')).code, 0)
    const names = ['a', 'b', 'c', 'd']
    for (const n of names) writeFileSync(file(`${n}.json`), JSON.stringify({ artifact: n }))
    const signs = await Promise.all(names.map(async (n) => scitt('sign', '--key', file('issuer.jwk'), '--iss', 'did:key', '--sub', `pkg:${n}`, '--content-type', 'application/json', '--out', file(`${n}.cose`), file(`${n}.json`))))
    signs.forEach((s) => assert.equal(s.code, 0, s.stderr))

    const one = await scitt('register', '--node', url, '--wait', '--out', file('a.receipt'), file('a.cose'))
    assert.equal(one.code, 0, one.stdout + one.stderr)
    const id = entryId(entryBytes(decodeSign1(new Uint8Array(readFileSync(file('a.cose'))))))
    assert.match(one.stdout, new RegExp(`^${id}  registered`))

    const many = await scitt('register', '--node', url, '--wait', '--concurrency', '3', '--json', '--out', file('receipts'), ...names.slice(1).map((n) => file(`${n}.cose`)))
    assert.equal(many.code, 0, many.stdout + many.stderr)
    const outcomes = JSON.parse(many.stdout) as Array<{ status: string, receipt: string }>
    assert.deepEqual(outcomes.map((o) => o.status), ['registered', 'registered', 'registered'])

    const [ts, proof, keys, cp] = await Promise.all([
      scitt('get', id, '--node', url, '--statement', '--out', file('a.ts.cose')),
      scitt('get', id, '--node', url, '--proof', '--out', file('a.tlog-proof')),
      scitt('keys', '--node', url, '--out', file('node-keys.cbor')),
      scitt('checkpoint', '--node', url, '--policy', file('policy.txt'), '--json'),
    ])
    for (const r of [ts, proof, keys, cp]) assert.equal(r.code, 0, r.stdout + r.stderr)
    assert.equal(JSON.parse(cp.stdout).origin, 'example.com/e2e')
    assert.equal(JSON.parse(cp.stdout).policy, 'ok')

    const common = ['--node-keys', file('node-keys.cbor'), '--allow-did-key', '--policy', file('policy.txt')]
    const verified = await Promise.all([
      // The transparent statement, bound to the proof's checkpoint (consistency from the node's tiles if it grew).
      scitt('verify', file('a.ts.cose'), ...common, '--proof', file('a.tlog-proof'), '--node', url),
      scitt('verify', file('a.receipt'), '--statement', file('a.cose'), ...common, '--proof', file('a.tlog-proof'), '--node', url),
      scitt('verify', file('a.tlog-proof'), '--statement', file('a.cose'), ...common),
      scitt('verify', join(file('receipts'), 'b.cose.receipt'), '--statement', file('b.cose'), '--node-keys', file('node-keys.cbor')),
    ])
    verified.forEach((v, i) => assert.equal(v.code, 0, `verify #${i}: ${v.stdout}${v.stderr}`))
    assert.match(verified[0].stdout, /ok\s+receipt\[0\]\.witnessed/)

    // The receipt of one statement does not verify another.
    const wrong = await scitt('verify', file('a.receipt'), '--statement', file('b.cose'), '--node-keys', file('node-keys.cbor'))
    assert.equal(wrong.code, 1)
    assert.match(wrong.stdout, /FAILED\s+receipt\[0\]/)

    const mon = await scitt('monitor', '--node', url, '--policy', file('policy.txt'), '--once', '--audit')
    assert.equal(mon.code, 0, mon.stdout + mon.stderr)
    assert.match(mon.stdout, /example\.com\/e2e: first checkpoint, size 4/)

    const missing = await scitt('get', 'f'.repeat(64), '--node', url)
    assert.equal(missing.code, 2)
    assert.match(missing.stderr, /NOT_FOUND/)
  })

  it('SDK: register, fetch and verify with node:crypto, and follow the log', async () => {
    const issuer = signerFromJwk(secretKeyJwk('Ed25519', portableSignatures.generateSecretKey('Ed25519')), nodeSignatures)
    const iss = didKeyFromPublicKey('Ed25519', issuer.key.publicKey)
    const follower = new LogFollower({ logVerifiers: [noteVerifierFromVkey(logVkey)] })
    await follower.poll({ nodeUrl: url })
    const statements = Array.from({ length: 5 }, (_, i) => signStatement({ signer: issuer.signer, kid: issuer.key.kid, iss, sub: `s${i}`, contentType: 'text/plain', payload: utf8(`sdk ${i}`) }))
    const regs = await Promise.all(statements.map(async (s) => register(url, s, { wait: true })))
    for (const r of regs) assert.ok(r.receipt !== undefined)
    const nodeKeys = await fetchNodeKeys(url)
    const policy = parsePolicy(`log ${logVkey}\nquorum none\n`)
    const ts = await fetchTransparentStatement(url, regs[0]!.entryId)
    const proof = await fetchProof(url, regs[0]!.entryId)
    const report = await verifyTransparentStatement(ts, { provider: nodeSignatures, nodeKeys, allowDidKey: true, policy, checkpoints: [] })
    assert.equal(report.checks.find((c) => c.name === 'receipt[0]')?.status, 'ok')
    const proofReport = await verifyProof(proof, { statement: statements[0]! }, { provider: nodeSignatures, policy, allowDidKey: true })
    assert.equal(proofReport.ok, true, JSON.stringify(proofReport.checks))
    const event = await follower.poll({ nodeUrl: url })
    assert.equal(event.type, 'advanced')
    const stranger = signStatement({ signer: issuer.signer, kid: issuer.key.kid, iss: 'stranger.example', sub: 's', contentType: 'text/plain', payload: utf8('x') })
    await assert.rejects(register(url, stranger), (err: Error & { details?: Record<string, unknown> }) => {
      assert.equal(err.details?.title, 'Rejected', err.message)
      return true
    })
  })
})
