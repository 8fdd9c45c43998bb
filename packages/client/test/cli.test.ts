import assert from 'node:assert/strict'
import { lstatSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import {
  addReceipts, decodeSign1, didKeyFromPublicKey, encodeCoseKeySet, encodeSign1, entryBytes, entryId, parseProofFile, formatProofFile, portableSignatures,
  sha256Digest, utf8, validateStatement,
} from '@scitt/core'
import { secretKeyJwk, signStatement, signerFromJwk, type VerificationReport } from '@scitt/client'
import { TestLog, policyText, stubServer, tileServer, witness, type StubServer } from './helpers.js'
import { scitt } from './run-cli.js'
import { checkpoint } from '../src/cli/checkpoint.js'
import { parse } from '../src/cli/common.js'
import { get } from '../src/cli/get.js'
import { VERIFY_HINTS } from '../src/cli/hints.js'
import { keygen } from '../src/cli/keygen.js'
import { keys } from '../src/cli/keys.js'
import { monitor } from '../src/cli/monitor.js'
import { register } from '../src/cli/register.js'
import { sign } from '../src/cli/sign.js'
import { verify } from '../src/cli/verify.js'

describe('scitt CLI (subprocess)', function () {
  this.timeout(60_000)
  let dir: string
  const file = (name: string): string => join(dir, name)

  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'scitt-cli-'))
  })
  after(() => {
    rmSync(dir, { recursive: true, force: true })
  })

  it('has --help on every command, and exits 2 on usage errors', async () => {
    const commands = [keygen, sign, register, get, keys, verify, checkpoint, monitor]
    for (const c of commands) {
      assert.equal(parse(c, ['--help']).values.help, true)
      assert.match(c.help, new RegExp(`^usage: scitt ${c.name} `))
      assert.match(c.help, /example:\n {2}scitt /, `${c.name} --help shows an example`)
    }
    const [top, one, unknown, missing, badOption] = await Promise.all([
      scitt('--help'), scitt('verify', '--help'), scitt('frobnicate'), scitt('sign', file('x')), scitt('verify', '--bogus', 'x'),
    ])
    assert.equal(top.code, 0)
    for (const c of commands) assert.match(top.stdout, new RegExp(`\\b${c.name}\\b`))
    assert.equal(one.code, 0)
    assert.equal(one.stdout, `${verify.help}\n`)
    assert.equal(unknown.code, 2)
    assert.equal(missing.code, 2)
    assert.match(missing.stderr, /--key is required/)
    assert.equal(badOption.code, 2)
    assert.match(badOption.stderr, /scitt verify --help/)
  })

  it('keygen → sign → verify offline, and names the failing check on tampering', async () => {
    // keygen: a 0600 private JWK, public key printed as JSON.
    const keygen = await scitt('keygen', '--out', file('issuer.jwk'), '--json')
    assert.equal(keygen.code, 0, keygen.stderr)
    const pub = JSON.parse(keygen.stdout) as { didKey: string, kid: string }
    assert.equal(statSync(file('issuer.jwk')).mode & 0o777, 0o600)
    assert.equal((await scitt('keygen', '--out', file('issuer.jwk'))).code, 2, 'never overwrites a key')

    // sign: plain and hash envelope.
    writeFileSync(file('sbom.json'), '{"sbom": true}')
    const signed = await scitt('sign', '--key', file('issuer.jwk'), '--iss', 'did:key', '--sub', 'pkg:fw@1', '--content-type', 'application/json', '--out', file('s.cose'), file('sbom.json'))
    assert.equal(signed.code, 0, signed.stderr)
    const statement = new Uint8Array(readFileSync(file('s.cose')))
    const info = validateStatement(decodeSign1(statement))
    assert.equal(info.iss, pub.didKey)
    assert.equal(info.contentType, 'application/json')
    const env = await scitt('sign', '--key', file('issuer.jwk'), '--iss', 'did:key', '--sub', 'pkg:fw@1', '--content-type', 'application/json', '--hash-envelope', '--location', 'https://x.example/sbom', '--out', file('h.cose'), file('sbom.json'))
    assert.equal(env.code, 0, env.stderr)
    const envelope = decodeSign1(new Uint8Array(readFileSync(file('h.cose'))))
    assert.deepEqual(envelope.payload, sha256Digest(utf8('{"sbom": true}')))
    assert.equal(validateStatement(envelope).hashEnvelope?.location, 'https://x.example/sbom')

    // A log registers it (built in-process), witnesses cosign, the relying party gets files.
    const log = new TestLog('example.com/cli-log')
    const ws = [witness('w1.example'), witness('w2.example'), witness('w3.example')]
    log.append(utf8('first'))
    const index = log.append(entryBytes(decodeSign1(statement)))
    log.append(utf8('third'))
    writeFileSync(file('ts.cose'), addReceipts(statement, [await log.receipt(index)]))
    writeFileSync(file('receipt.cose'), await log.receipt(index))
    writeFileSync(file('node-keys.cbor'), encodeCoseKeySet([log.receiptKey]))
    writeFileSync(file('policy.txt'), policyText([log], ws, 2))
    writeFileSync(file('cp.txt'), log.checkpoint(log.size, [ws[0]!, ws[2]!]))
    writeFileSync(file('cp-weak.txt'), log.checkpoint(log.size, [ws[1]!]))
    writeFileSync(file('p.tlog-proof'), await log.proofFile(index, log.size, ws))
    const base = ['--node-keys', file('node-keys.cbor'), '--allow-did-key', '--policy', file('policy.txt')]

    const ok = await scitt('verify', file('ts.cose'), ...base, '--checkpoint', file('cp.txt'))
    assert.equal(ok.code, 0, ok.stdout + ok.stderr)
    assert.match(ok.stdout, /ok\s+issuer-signature/)
    assert.match(ok.stdout, /ok\s+receipt\[0\]\.witnessed/)
    assert.match(ok.stdout, new RegExp(`verified entry ${entryId(entryBytes(decodeSign1(statement)))}`))

    const json = await scitt('verify', file('ts.cose'), ...base, '--proof', file('p.tlog-proof'), '--json')
    assert.equal(json.code, 0)
    assert.equal(JSON.parse(json.stdout).ok, true)

    const receiptOk = await scitt('verify', file('receipt.cose'), '--statement', file('s.cose'), ...base, '--checkpoint', file('cp.txt'))
    assert.equal(receiptOk.code, 0, receiptOk.stdout)
    const proofOk = await scitt('verify', file('p.tlog-proof'), '--statement', file('s.cose'), ...base)
    assert.equal(proofOk.code, 0, proofOk.stdout)

    // Tampered statement: the payload changed, signature and receipt kept.
    const sign1 = decodeSign1(new Uint8Array(readFileSync(file('ts.cose'))))
    writeFileSync(file('ts-bad.cose'), encodeSign1({ ...sign1, payload: utf8('{"sbom": false}') }))
    // Tampered receipt: one bit of its signature.
    const badReceipt = new Uint8Array(readFileSync(file('receipt.cose')))
    badReceipt[badReceipt.length - 1]! ^= 1
    writeFileSync(file('receipt-bad.cose'), badReceipt)
    // Tampered proof: one inclusion hash.
    const proof = parseProofFile(readFileSync(file('p.tlog-proof'), 'utf8'))
    proof.proof[0] = sha256Digest(proof.proof[0]!)
    writeFileSync(file('p-bad.tlog-proof'), formatProofFile(proof))
    // Tampered checkpoint: the size line changed under the signatures.
    writeFileSync(file('cp-bad.txt'), readFileSync(file('cp.txt'), 'utf8').replace(/\n3\n/, '\n4\n'))

    const cases: Array<[string, string[], RegExp]> = [
      ['statement', ['verify', file('ts-bad.cose'), ...base, '--checkpoint', file('cp.txt')], /FAILED\s+issuer-signature\s+BAD_SIGNATURE/],
      ['receipt', ['verify', file('receipt-bad.cose'), '--statement', file('s.cose'), ...base, '--checkpoint', file('cp.txt')], /FAILED\s+receipt\[0\]\s+BAD_SIGNATURE/],
      ['proof', ['verify', file('p-bad.tlog-proof'), '--statement', file('s.cose'), ...base], /FAILED\s+proof\.inclusion\s+BAD_PROOF/],
      ['checkpoint', ['verify', file('ts.cose'), ...base, '--checkpoint', file('cp-bad.txt')], /FAILED\s+checkpoint\[0\]\s+BAD_SIGNATURE/],
      ['quorum', ['verify', file('ts.cose'), ...base, '--checkpoint', file('cp-weak.txt')], /FAILED\s+checkpoint\[0\]\s+POLICY/],
    ]
    const runs = await Promise.all(cases.map(async ([, args]) => scitt(...args)))
    runs.forEach((r, i) => {
      const [what, , pattern] = cases[i]!
      assert.equal(r.code, 1, `tampered ${what}: ${r.stdout}${r.stderr}`)
      assert.match(r.stdout, pattern, `tampered ${what}`)
      assert.match(r.stdout, /verification FAILED/)
    })

    const noStatement = await scitt('verify', file('receipt.cose'), ...base)
    assert.equal(noStatement.code, 2)
    assert.match(noStatement.stderr, /--statement FILE/)
  })

  it('verify prints, under a check that misses a key, checkpoint or log key, the hint of its code; --json carries the codes', async () => {
    const issuer = signerFromJwk(secretKeyJwk('Ed25519', portableSignatures.generateSecretKey('Ed25519')))
    const statement = signStatement({
      signer: issuer.signer, kid: issuer.key.kid, iss: didKeyFromPublicKey('Ed25519', issuer.key.publicKey), sub: 'hint', contentType: 'text/plain', payload: utf8('hint'),
    })
    const log = new TestLog('example.com/hint-log')
    const ws = [witness('w1.example'), witness('w2.example')]
    const index = log.append(entryBytes(decodeSign1(statement)))
    writeFileSync(file('hint.ts.cose'), addReceipts(statement, [await log.receipt(index)]))
    writeFileSync(file('hint-keys.cbor'), encodeCoseKeySet([log.receiptKey]))
    writeFileSync(file('hint.policy'), policyText([log], ws, 1))
    writeFileSync(file('hint.tlog-proof'), await log.proofFile(index, log.size, ws))
    const id = entryId(entryBytes(decodeSign1(statement)))

    const [noKeys, noCheckpoint, noLogKey, json] = await Promise.all([
      scitt('verify', file('hint.ts.cose')),
      scitt('verify', file('hint.ts.cose'), '--node-keys', file('hint-keys.cbor'), '--policy', file('hint.policy')),
      scitt('verify', file('hint.tlog-proof'), '--entry', id),
      scitt('verify', file('hint.ts.cose'), '--json'),
    ])
    /** The line of `check` with `code`, and the hint line right under it. */
    const under = (check: string, code: string, hint: string): RegExp =>
      new RegExp(`\\n(FAILED |skipped)\\s+${check.replace(/[[\].]/g, '\\$&')}\\s+${code}: [^\\n]*\\n {38}hint: [^\\n]*${hint}[^\\n]*\\n`)
    assert.equal(noKeys.code, 1, noKeys.stdout + noKeys.stderr)
    assert.match(`\n${noKeys.stdout}`, under('issuer-signature', 'NO_ISSUER_KEY', '--issuer-key KEY, or --allow-did-key'))
    assert.match(`\n${noKeys.stdout}`, under('receipt[0]', 'NO_TRUSTED_KEY', '--node-keys FILE'))
    assert.match(`\n${noKeys.stdout}`, under('receipts', 'NO_NODE_KEYS', '--node-keys FILE'))
    assert.equal(noCheckpoint.code, 1, noCheckpoint.stdout + noCheckpoint.stderr)
    assert.match(`\n${noCheckpoint.stdout}`, under('receipt[0].witnessed', 'NO_CHECKPOINT', '--checkpoint FILE or --proof FILE'))
    assert.doesNotMatch(noCheckpoint.stdout, /\n\s+ok\s[^\n]*\n\s+hint:/, 'no hint under a check that passed')
    assert.equal(noLogKey.code, 1, noLogKey.stdout + noLogKey.stderr)
    assert.match(`\n${noLogKey.stdout}`, under('proof.checkpoint-signature', 'NO_LOG_KEY', '--policy FILE, or .*--log-key VKEY'))

    // JSON: the report's fields as before, each check with its code beside; hints are the text output's.
    assert.equal(json.code, 1)
    const report = JSON.parse(json.stdout) as VerificationReport
    assert.deepEqual(Object.keys(report), ['ok', 'kind', 'entryId', 'checks'])
    assert.deepEqual(report.checks.map((c) => [c.name, c.status, c.verifyCode, c.code]), [
      ['issuer-signature', 'skipped', 'NO_ISSUER_KEY', 'UNKNOWN_KEY'], ['receipt[0]', 'skipped', 'NO_TRUSTED_KEY', 'UNKNOWN_KEY'], ['receipts', 'failed', 'NO_NODE_KEYS', 'UNKNOWN_KEY'],
    ])
    for (const c of report.checks) assert.deepEqual(Object.keys(c).sort(), ['code', 'name', 'reason', 'status', 'verifyCode'])
  })

  it('the hints name only flags the commands have', () => {
    const flags = new Set(['help', 'json', ...[keygen, sign, register, get, keys, verify, checkpoint, monitor].flatMap((c) => Object.keys(c.options))])
    for (const [code, hint] of Object.entries(VERIFY_HINTS)) {
      for (const [, flag] of hint.matchAll(/--([a-z-]+)/g)) assert.ok(flags.has(flag!), `${code}: --${flag!} is no flag of scitt`)
    }
  })

  describe('--out', () => {
    const servers: StubServer[] = []
    afterEach(async () => {
      await Promise.all(servers.splice(0).map(async (s) => s.close()))
    })

    /** Files in `dir` whose names look like the writer's temp files. */
    const leftovers = (d: string): string[] => readdirSync(d).filter((n) => n.includes('.tmp'))

    it('refuses to overwrite a file without --force, replaces it with --force, and never writes through a symlink', async () => {
      const out = mkdtempSync(join(dir, 'out-'))
      const key = join(out, 'k.jwk')
      assert.equal((await scitt('keygen', '--out', key)).code, 0)
      writeFileSync(join(out, 'in.txt'), 'payload')
      const args = ['sign', '--key', key, '--iss', 'did:key', '--sub', 's', '--content-type', 'text/plain', join(out, 'in.txt')]

      writeFileSync(join(out, 'exists.cose'), 'keep me')
      const refused = await scitt(...args, '--out', join(out, 'exists.cose'))
      assert.equal(refused.code, 2, refused.stderr)
      assert.match(refused.stderr, /exists.*--force/)
      assert.equal(readFileSync(join(out, 'exists.cose'), 'utf8'), 'keep me')
      const forced = await scitt(...args, '--out', join(out, 'exists.cose'), '--force')
      assert.equal(forced.code, 0, forced.stderr)
      validateStatement(decodeSign1(new Uint8Array(readFileSync(join(out, 'exists.cose')))))

      // A symlink at --out, to a file or dangling: refused with and without --force; its target is untouched.
      writeFileSync(join(out, 'victim'), 'victim')
      symlinkSync(join(out, 'victim'), join(out, 'link.cose'))
      symlinkSync(join(out, 'nowhere'), join(out, 'dangling.cose'))
      for (const name of ['link.cose', 'dangling.cose']) {
        for (const force of [[], ['--force']]) {
          const run = await scitt(...args, '--out', join(out, name), ...force)
          assert.equal(run.code, 2, `${name} ${force.join(' ')}: ${run.stderr}`)
          assert.ok(lstatSync(join(out, name)).isSymbolicLink(), `${name} is still a symlink`)
        }
      }
      assert.equal(readFileSync(join(out, 'victim'), 'utf8'), 'victim')
      assert.throws(() => lstatSync(join(out, 'nowhere')), { code: 'ENOENT' }, 'nothing created through the dangling link')
      assert.deepEqual(leftovers(out), [], 'no temp files left behind')

      // keys and get refuse too.
      writeFileSync(join(out, 'keys.cbor'), 'old keys')
      const log = new TestLog('example.com/out-keys')
      const node = await stubServer((req, res) => { res.end(encodeCoseKeySet([log.receiptKey])) })
      servers.push(node)
      const keysRun = await scitt('keys', '--node', node.url, '--out', join(out, 'keys.cbor'))
      assert.equal(keysRun.code, 2, keysRun.stderr)
      assert.equal(readFileSync(join(out, 'keys.cbor'), 'utf8'), 'old keys')
      assert.equal((await scitt('keys', '--node', node.url, '--out', join(out, 'keys.cbor'), '--force')).code, 0)
      assert.deepEqual(new Uint8Array(readFileSync(join(out, 'keys.cbor'))), encodeCoseKeySet([log.receiptKey]))
      const getRun = await scitt('get', 'ab'.repeat(32), '--node', node.url, '--out', join(out, 'keys.cbor'))
      assert.equal(getRun.code, 2, getRun.stderr)
      assert.match(getRun.stderr, /exists.*--force/)
      assert.deepEqual(node.requests.filter((r) => r.includes('/entries/')), [], 'get refuses before fetching')
      for (const c of [sign, register, get, keys]) assert.match(c.help, /--force/, `${c.name} --help documents --force`)
    })

    it('register --out verifies the receipt before saving it (pinned --node-keys, or the node\'s own keys)', async () => {
      const out = mkdtempSync(join(dir, 'register-'))
      assert.equal((await scitt('keygen', '--out', join(out, 'k.jwk'))).code, 0)
      writeFileSync(join(out, 'in.txt'), 'payload')
      assert.equal((await scitt('sign', '--key', join(out, 'k.jwk'), '--iss', 'did:key', '--sub', 's', '--content-type', 'text/plain', '--out', join(out, 's.cose'), join(out, 'in.txt'))).code, 0)
      const log = new TestLog('example.com/out-register')
      log.append(utf8('an earlier entry'))
      const stranger = new TestLog('example.com/stranger')
      let answer: 'honest' | 'other-entry' | 'flipped' = 'honest'
      const node = await stubServer(async (req, res, body) => {
        if (req.method === 'POST' && req.url === '/entries') {
          const index = log.append(entryBytes(decodeSign1(body)))
          let receipt = await log.receipt(answer === 'other-entry' ? 0 : index)
          if (answer === 'flipped') {
            receipt = receipt.slice()
            receipt[receipt.length - 1]! ^= 1
          }
          res.statusCode = 201
          res.setHeader('content-type', 'application/cose')
          res.end(receipt)
          return
        }
        if (req.url === '/.well-known/scitt-keys') {
          res.setHeader('content-type', 'application/cbor')
          res.end(encodeCoseKeySet([log.receiptKey]))
          return
        }
        res.statusCode = 404
        res.end()
      })
      servers.push(node)
      writeFileSync(join(out, 'pinned.cbor'), encodeCoseKeySet([log.receiptKey]))
      writeFileSync(join(out, 'wrong.cbor'), encodeCoseKeySet([stranger.receiptKey]))
      const registerTo = async (name: string, ...extra: string[]): Promise<Awaited<ReturnType<typeof scitt>>> =>
        scitt('register', '--node', node.url, '--out', join(out, name), ...extra, join(out, 's.cose'))

      const ok = await registerTo('ok.receipt')
      assert.equal(ok.code, 0, ok.stderr)

      for (const [name, mode, extra] of [
        ['other.receipt', 'other-entry', []], ['flipped.receipt', 'flipped', []], ['unpinned.receipt', 'honest', ['--node-keys', join(out, 'wrong.cbor')]],
      ] as const) {
        answer = mode
        const run = await registerTo(name, ...extra)
        assert.equal(run.code, 1, `${mode}: ${run.stdout}${run.stderr}`)
        assert.match(run.stderr, /receipt does not verify.*not saved/, mode)
        assert.throws(() => lstatSync(join(out, name)), { code: 'ENOENT' }, `${mode}: nothing saved`)
      }
      answer = 'honest'
      const pinned = await registerTo('pinned.receipt', '--node-keys', join(out, 'pinned.cbor'))
      assert.equal(pinned.code, 0, pinned.stderr)
      const verified = await scitt('verify', join(out, 'pinned.receipt'), '--statement', join(out, 's.cose'), '--node-keys', join(out, 'pinned.cbor'))
      assert.equal(verified.code, 0, verified.stdout)

      // An existing --out is refused before anything is registered.
      const posts = node.requests.filter((r) => r.startsWith('POST')).length
      const exists = await registerTo('ok.receipt')
      assert.equal(exists.code, 2, exists.stderr)
      assert.match(exists.stderr, /exists.*--force/)
      assert.equal(node.requests.filter((r) => r.startsWith('POST')).length, posts, 'no registration was sent')
      assert.deepEqual(leftovers(out), [])
    })

    it('register waits for a pending (not yet durable) receipt by default; --no-wait prints it as pending and says so', async () => {
      const out = mkdtempSync(join(dir, 'pending-'))
      assert.equal((await scitt('keygen', '--out', join(out, 'k.jwk'))).code, 0)
      writeFileSync(join(out, 'in.txt'), 'payload')
      assert.equal((await scitt('sign', '--key', join(out, 'k.jwk'), '--iss', 'did:key', '--sub', 's', '--content-type', 'text/plain', '--out', join(out, 's.cose'), join(out, 'in.txt'))).code, 0)
      const log = new TestLog('example.com/pending')
      let polls = 0
      const node = await stubServer(async (req, res, body) => {
        if (req.method === 'POST' && req.url === '/entries') {
          const id = entryId(entryBytes(decodeSign1(body)))
          log.append(entryBytes(decodeSign1(body)))
          polls = 0
          res.statusCode = 303
          res.setHeader('location', `/entries/${id}`)
          res.end()
          return
        }
        if (req.url?.startsWith('/entries/') === true) {
          if (++polls < 3) {
            res.statusCode = 202
            res.setHeader('retry-after', '0')
            res.end()
            return
          }
          res.setHeader('content-type', 'application/cose')
          res.end(await log.receipt(log.size - 1))
          return
        }
        res.statusCode = 404
        res.end()
      })
      servers.push(node)
      const waited = await scitt('register', '--node', node.url, join(out, 's.cose'))
      assert.equal(waited.code, 0, waited.stderr)
      assert.match(waited.stdout, /^[0-9a-f]{64} {2}registered {2}/)
      assert.equal(polls, 3, 'polled through two 202s to the receipt')

      const quick = await scitt('register', '--node', node.url, '--no-wait', join(out, 's.cose'))
      assert.equal(quick.code, 0, quick.stderr)
      assert.match(quick.stdout, /^[0-9a-f]{64} {2}pending {2}/)
      assert.match(quick.stderr, /not yet durable/)
      assert.equal(polls, 0, 'no poll with --no-wait')
      const both = await scitt('register', '--node', node.url, '--wait', '--no-wait', join(out, 's.cose'))
      assert.equal(both.code, 2)
    })
  })

  describe('monitor', () => {
    const servers: StubServer[] = []
    afterEach(async () => {
      await Promise.all(servers.splice(0).map(async (s) => s.close()))
    })

    it('follows two consistent peers, then catches a forked one with evidence (exit 1)', async () => {
      const log = new TestLog('example.com/monitored')
      for (let i = 0; i < 40; i++) log.append(utf8(`e${i}`))
      const fork = log.fork(17)
      for (let i = 0; i < 30; i++) fork.append(utf8(`f${i}`))
      const a = await tileServer({ log, size: 40 })
      const b = await tileServer({ log, size: 33 })
      const forked = await tileServer({ log: fork, size: 47 })
      servers.push(a, b, forked)
      const state = join(dir, 'monitor-state.json')
      const good = await scitt('monitor', '--node', a.url, '--node', b.url, '--log-key', log.vkey, '--once', '--state', state, '--audit')
      assert.equal(good.code, 0, good.stdout + good.stderr)
      assert.match(good.stdout, /first checkpoint, size 40/)
      assert.match(good.stdout, /behind at size 33/)
      const split = await scitt('monitor', '--node', forked.url, '--log-key', log.vkey, '--once', '--state', state)
      assert.equal(split.code, 1, split.stdout + split.stderr)
      assert.match(split.stdout, /SPLIT VIEW of example\.com\/monitored/)
      assert.match(split.stdout, /consistency proof 40 → 47/)
      assert.ok(split.stdout.includes(log.checkpoint(40)) && split.stdout.includes(fork.checkpoint(47)), 'prints both signed notes')
      const json = await scitt('monitor', '--node', a.url, '--node', forked.url, '--log-key', log.vkey, '--once', '--json')
      assert.equal(json.code, 1)
      assert.match(json.stdout, /"event": "split-view"/)
      const noKey = await scitt('monitor', '--node', a.url, '--once')
      assert.equal(noKey.code, 2)
      assert.match(noKey.stderr, /--policy FILE or --log-key/)
    })
  })
})
