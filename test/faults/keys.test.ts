/**
 * Issue #9, keys: `scitt-node init` (the real CLI) writes each key file 0600 in a 0700 directory;
 * `scitt-node start` refuses (exit 2, a message naming the file) a key file that group or others may
 * read, for each of the four key files; and no key material — the log, receipt, witness and libp2p
 * peer keys, and a wrong key put in place of one — appears in anything the node says over a whole run
 * (init, refused starts, a start at trace level, registrations, every kind of error answer, stop,
 * fsck): its stdout and stderr and every HTTP answer are searched for the keys in hex, base64 and
 * base64url at every byte alignment.
 */
import assert from 'node:assert/strict'
import { chmodSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { decodeProblemDetails, formatSkey, fromBase64Url, parseSkey, toBase64, toBase64Url, toHex } from '@scitt/core'
import { nodeSignatures } from '@scitt/node-crypto'
import { makeIssuer, statement } from '../../packages/node/test/helpers.js'
import { Ledger, call, servedReceiptKeys } from './process-load.js'
import { NodeProcess, freePort, killAll, runCli } from './process-node.js'
import { record, type ScenarioRow } from './report.js'

const issuer = makeIssuer('https://issuer.keys.example')
const ORIGIN = 'keys.example/log'
const KEY_FILES = ['log.key', 'receipt.key', 'witness.key', 'peer.key']

/**
 * Fragments (20 characters) that any hex, base64 or base64url text holding `secret` contains,
 * whatever the bytes around it: for base64 the secret is encoded after 0, 1 and 2 bytes of prefix
 * and the characters touched by the prefix or the end are dropped.
 */
function fragments (secret: Uint8Array): string[] {
  const hex = toHex(secret).slice(2, 22)
  const out = [hex, hex.toUpperCase()]
  for (let shift = 0; shift < 3; shift++) {
    const shifted = new Uint8Array(shift + secret.length)
    shifted.set(secret, shift)
    out.push(toBase64(shifted).slice(4, 24), toBase64Url(shifted).slice(4, 24))
  }
  return out
}

describe('faults: key files of scitt-node', function () {
  this.timeout(120_000)
  let root: string

  before(async () => { root = await mkdtemp(join(tmpdir(), 'scitt-faults-keys-')) })
  after(async () => {
    await killAll()
    await rm(root, { recursive: true, force: true })
  })

  it('init writes keys 0600 in a 0700 dir; start refuses readable key files naming them; no key material is ever output', async () => {
    const row: ScenarioRow = { scenario: 'key files: modes, refusal, no key material in output', cases: 0, faults: 0, acknowledged: 0, found: 0, result: 'fail' }
    /** Everything the node said over the run: process output and HTTP answers. */
    const transcript: string[] = []
    try {
      const dir = join(root, 'node')
      const init = await runCli(['init', '--dir', dir, '--origin', ORIGIN, '--port', '0', '--json'])
      transcript.push(init.stdout, init.stderr)
      assert.equal(init.code, 0, init.stderr)
      const { logVkey } = JSON.parse(init.stdout) as { logVkey: string }
      assert.equal(statSync(dir).mode & 0o777, 0o700, 'the node directory is 0700')
      for (const file of KEY_FILES) assert.equal(statSync(join(dir, file)).mode & 0o777, 0o600, `${file} is 0600`)
      row.cases += 1 + KEY_FILES.length

      // The secrets, read from the files init wrote.
      const logSkey = readFileSync(join(dir, 'log.key'), 'utf8').trim()
      const witnessSkey = readFileSync(join(dir, 'witness.key'), 'utf8').trim()
      const receiptD = (JSON.parse(readFileSync(join(dir, 'receipt.key'), 'utf8')) as { d: string }).d
      const wrongSkey = formatSkey('someone.else/log', nodeSignatures.generateSecretKey('Ed25519'), nodeSignatures)
      const secrets: Array<[string, Uint8Array]> = [
        ['log key', parseSkey(logSkey, nodeSignatures).seed],
        ['witness key', parseSkey(witnessSkey, nodeSignatures).seed],
        ['receipt key', fromBase64Url(receiptD)],
        ['peer key', new Uint8Array(readFileSync(join(dir, 'peer.key')))],
        ['wrong log key', parseSkey(wrongSkey, nodeSignatures).seed],
      ]

      // A federated config, so that all four keys are loaded (witness role, libp2p peer key).
      const configFile = join(dir, 'config.json')
      const raw = JSON.parse(readFileSync(configFile, 'utf8'))
      raw.http.port = await freePort()
      raw.log.batchAgeMs = 10
      raw.limits.verifyWorkers = 1
      raw.registration.issuers = [{ iss: issuer.iss, keys: [{ jwk: issuer.jwk }] }]
      writeFileSync(join(dir, 'trust.policy'), `log ${logVkey}\nquorum none\n`)
      raw.federation = { ...raw.federation, name: 'keysnet', listen: [`/ip4/127.0.0.1/tcp/${await freePort()}`], trustPolicy: 'trust.policy', heartbeatMs: 200, announceMs: 1000 }
      writeFileSync(configFile, JSON.stringify(raw))

      // Each key file readable by group, then by others: start refuses, naming the file.
      for (const file of KEY_FILES) {
        for (const mode of [0o640, 0o604]) {
          const path = join(dir, file)
          chmodSync(path, mode)
          const run = await runCli(['start', '--config', configFile])
          chmodSync(path, 0o600)
          transcript.push(run.stdout, run.stderr)
          assert.equal(run.code, 2, `start with ${file} mode ${mode.toString(8)} exited ${run.code}: ${run.stderr}`)
          assert.ok(run.stderr.includes(path), `the message names ${path}: ${run.stderr}`)
          assert.match(run.stderr, /accessible by group or others/)
          row.faults++
          row.cases++
        }
      }
      // A wrong key in place of the log key: refused, and its material is not echoed either.
      renameSync(join(dir, 'log.key'), join(dir, 'log.key.good'))
      writeFileSync(join(dir, 'log.key'), `${wrongSkey}\n`, { mode: 0o600 })
      const wrong = await runCli(['start', '--config', configFile])
      transcript.push(wrong.stdout, wrong.stderr)
      assert.equal(wrong.code, 2, wrong.stderr)
      assert.ok(wrong.stderr.includes(join(dir, 'log.key')), wrong.stderr)
      renameSync(join(dir, 'log.key.good'), join(dir, 'log.key'))
      row.faults++
      row.cases++

      // A whole run at trace level: registrations, error answers of every kind, a clean stop, fsck.
      const node = await NodeProcess.start(configFile, ['--log-level', 'trace'])
      const url = node.url
      const ledger = new Ledger(await servedReceiptKeys(url))
      for (let i = 0; i < 5; i++) assert.equal((await ledger.register(url, statement(issuer)))?.status, 201)
      const stranger = makeIssuer('https://stranger.example')
      // Each is refused with a 4xx answer (which one is the HTTP tests' business): what matters here is what it says.
      const errors: Array<[string, string, Record<string, string>, Uint8Array | undefined]> = [
        ['POST', '/entries', { 'content-type': 'application/cose' }, new TextEncoder().encode('not cose')],
        ['POST', '/entries', { 'content-type': 'text/plain' }, statement(issuer)],
        ['POST', '/entries', { 'content-type': 'application/cose' }, statement(stranger)],
        ['POST', '/entries', { 'content-type': 'application/cose' }, new Uint8Array(300_000)],
        ['GET', '/entries/not-an-id', {}, undefined],
        ['GET', `/entries/${'0'.repeat(64)}`, {}, undefined],
        ['GET', '/.well-known/scitt-keys/AAAA', {}, undefined],
        ['POST', '/add-checkpoint', {}, new TextEncoder().encode('old 0\n\nnot a checkpoint\n')],
        ['GET', '/tile/0/x', {}, undefined],
        ['GET', '/no/such/route', {}, undefined],
      ]
      for (const [method, path, headers, body] of errors) {
        const res = await call(`${url}${path}`, { method, headers, ...(body === undefined ? {} : { body }) })
        assert.ok(res.status >= 400 && res.status < 500, `${method} ${path} answered ${res.status}`)
        transcript.push(Buffer.from(res.body).toString('latin1'), JSON.stringify(res.headers))
        if (res.headers['content-type'] === 'application/concise-problem-details+cbor') transcript.push(JSON.stringify(decodeProblemDetails(res.body)))
        row.faults++
        row.cases++
      }
      for (const path of ['/checkpoint', '/federation', '/evidence', '/metrics', '/.well-known/scitt-keys', '/healthz', '/readyz']) {
        const res = await call(`${url}${path}`)
        assert.equal(res.status, 200, path)
        transcript.push(Buffer.from(res.body).toString('latin1'))
      }
      const served = await ledger.verifyServed(url)
      assert.deepEqual(await node.stop(), { code: 0, signal: null })
      transcript.push(node.stdout, node.stderr)
      assert.match(node.stdout, /"msg":"scitt-node listening"/)
      assert.match(node.stdout, /"msg":"stopped"/)
      const fsck = await runCli(['fsck', '--dir', dir])
      transcript.push(fsck.stdout, fsck.stderr)
      assert.equal(fsck.code, 0, fsck.stdout)

      // No key material anywhere.
      const text = transcript.join('\n')
      const leaks: string[] = []
      for (const [name, secret] of secrets) {
        for (const fragment of fragments(secret)) if (text.includes(fragment)) leaks.push(`${name}: ${fragment}`)
      }
      // The key data is everything after PRIVATE+KEY+<name>+<id>+ (its base64 may itself contain '+').
      for (const skey of [logSkey, witnessSkey, wrongSkey]) if (text.includes(skey.split('+').slice(4).join('+')) || text.includes('PRIVATE+KEY')) leaks.push(`skey text ${skey.split('+')[2]}`)
      if (text.includes(receiptD)) leaks.push('receipt JWK d')
      assert.deepEqual(leaks, [], 'key material in the output')
      row.acknowledged = ledger.acked.size
      row.found = served.checked
      row.notes = `5 key secrets × ${fragments(secrets[0]![1]).length} encodings searched in ${(text.length / 1024).toFixed(0)} KiB of output (init, ${KEY_FILES.length * 2 + 1} refused starts, trace-level run with ${errors.length} error answers, stop, fsck): none found`
      row.result = 'pass'
    } finally {
      record(row)
    }
  })
})
