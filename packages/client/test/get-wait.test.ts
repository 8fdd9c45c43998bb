/**
 * Waiting for an entry that has not reached a node yet (`poll`, the SDK fetchers' `waitMs`, and
 * `scitt get --wait`), against stand-in nodes on 127.0.0.1: 404 and 202 are polled after Retry-After
 * and the deadline bounds every wait; a statement is polled until it carries enough receipts, a proof
 * until its checkpoint meets the policy's quorum; a timeout is PUSHBACK (exit 2) naming the last answer.
 */
import assert from 'node:assert/strict'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { ServerResponse } from 'node:http'
import { MEDIA_TYPE, addReceipts, encodeProblemDetails, getReceipts, portableSignatures, utf8 } from '@scitt/core'
import { fetchProof, fetchReceipt, fetchTransparentStatement, poll, secretKeyJwk, signStatement, signerFromJwk } from '@scitt/client'
import { TestLog, policyText, stubServer, witness, type StubServer } from './helpers.js'
import { scitt } from './run-cli.js'

const ID = 'ab'.repeat(32)

function notFound (res: ServerResponse): void {
  res.statusCode = 404
  res.setHeader('content-type', MEDIA_TYPE.problemDetails)
  res.end(encodeProblemDetails({ title: 'Not Found', detail: `no entry ${ID}` }))
}

describe('waiting for an entry (poll, fetchers, scitt get --wait)', function () {
  this.timeout(30_000)
  const servers: StubServer[] = []
  let dir: string
  before(() => { dir = mkdtempSync(join(tmpdir(), 'scitt-get-wait-')) })
  after(() => rmSync(dir, { recursive: true, force: true }))
  afterEach(async () => {
    await Promise.all(servers.splice(0).map(async (s) => s.close()))
  })

  /** A stub answering the n-th request (from 0) with `answers[n]`, the last one from then on. */
  async function sequence (answers: Array<(res: ServerResponse) => void>): Promise<StubServer> {
    let n = 0
    const s = await stubServer((_req, res) => { answers[Math.min(n++, answers.length - 1)]!(res) })
    servers.push(s)
    return s
  }

  it('polls 404 (whileNotFound) and 202, honouring Retry-After, until 200', async () => {
    const receipt = utf8('the receipt')
    const s = await sequence([
      notFound,
      (res) => { res.statusCode = 202; res.setHeader('retry-after', '1'); res.end() },
      (res) => { res.statusCode = 200; res.setHeader('content-type', MEDIA_TYPE.cose); res.end(receipt) },
    ])
    const started = Date.now()
    assert.deepEqual(await fetchReceipt(s.url, ID, { waitMs: 10_000, whileNotFound: true, minPollMs: 20 }), receipt)
    const elapsed = Date.now() - started
    assert.ok(elapsed >= 1000 && elapsed < 5000, `waited the 202's Retry-After of 1 s (took ${elapsed} ms)`)
    assert.deepEqual(s.requests, [`GET /entries/${ID}`, `GET /entries/${ID}`, `GET /entries/${ID}`])
    // Without whileNotFound, a 404 is NOT_FOUND at once.
    const once = await sequence([notFound])
    await assert.rejects(fetchReceipt(once.url, ID, { waitMs: 10_000 }), { code: 'NOT_FOUND' })
    assert.equal(once.requests.length, 1)
  })

  it('gives up at the deadline with PUSHBACK naming the last answer, even when Retry-After asks for longer', async () => {
    const absent = await sequence([notFound])
    let started = Date.now()
    await assert.rejects(fetchProof(absent.url, ID, { waitMs: 400, whileNotFound: true, minPollMs: 50 }), (err: Error & { code?: string }) => {
      assert.equal(err.code, 'PUSHBACK')
      assert.match(err.message, /^timed out after 400 ms waiting for .*\/proof: GET .* answered 404 \(Not Found: no entry ab/)
      return true
    })
    let elapsed = Date.now() - started
    assert.ok(elapsed >= 400 && elapsed < 2000, `bounded by waitMs (took ${elapsed} ms)`)
    assert.ok(absent.requests.length >= 2 && absent.requests.length <= 6, `polled with a backoff, and once more at the deadline (${absent.requests.length} requests)`)

    const slow = await sequence([(res) => { res.statusCode = 202; res.setHeader('retry-after', '3600'); res.end() }])
    started = Date.now()
    await assert.rejects(fetchReceipt(slow.url, ID, { waitMs: 300 }), { code: 'PUSHBACK' })
    elapsed = Date.now() - started
    assert.ok(elapsed >= 300 && elapsed < 2000, `a last poll at the deadline, not after Retry-After (took ${elapsed} ms)`)
    assert.equal(slow.requests.length, 2)
  })

  it('polls a transparent statement until it carries minReceipts receipts', async () => {
    const issuer = signerFromJwk(secretKeyJwk('Ed25519', portableSignatures.generateSecretKey('Ed25519')))
    const statement = signStatement({ signer: issuer.signer, kid: issuer.key.kid, iss: 'issuer.example', sub: 's', contentType: 'text/plain', payload: utf8('x') })
    const [a, b] = [new TestLog('a.example/log'), new TestLog('b.example/log')]
    a.append(utf8('e'))
    b.append(utf8('e'))
    const one = addReceipts(statement, [await a.receipt(0)])
    const two = addReceipts(one, [await b.receipt(0)])
    const s = await sequence([notFound, (res) => res.end(one), (res) => res.end(one), (res) => res.end(two)])
    const ts = await fetchTransparentStatement(s.url, ID, { waitMs: 10_000, whileNotFound: true, minPollMs: 10, minReceipts: 2 })
    assert.equal(getReceipts(ts).length, 2)
    assert.equal(s.requests.length, 4)
    const stuck = await sequence([(res) => res.end(one)])
    await assert.rejects(fetchTransparentStatement(stuck.url, ID, { waitMs: 200, minPollMs: 20, minReceipts: 2 }), /the statement carries 1 receipt, 2 wanted/)
    assert.deepEqual(await poll(`${stuck.url}entries/${ID}/statement`, MEDIA_TYPE.cose, { waitMs: 0 }).then((r) => r.body), one)
  })

  it('scitt get --wait: polls until found, waits for the quorum with --policy, and fails clearly (exit 2) on a timeout', async () => {
    const log = new TestLog('a.example/log')
    const ws = [witness('w1.example'), witness('w2.example')]
    log.append(utf8('entry'))
    const policyFile = join(dir, 'policy.txt')
    writeFileSync(policyFile, policyText([log], ws, 2))
    const [lone, cosigned] = [await log.proofFile(0, 1, [ws[0]!]), await log.proofFile(0, 1, ws)]
    const proofs = await sequence([notFound, (res) => res.end(lone), (res) => res.end(cosigned)])
    const got = await scitt('get', ID, '--node', proofs.url, '--proof', '--policy', policyFile, '--wait', '10', '--out', join(dir, 'p.tlog-proof'))
    assert.equal(got.code, 0, got.stderr)
    assert.equal(readFileSync(join(dir, 'p.tlog-proof'), 'utf8'), cosigned, 'the proof once its checkpoint meets the quorum')
    assert.equal(proofs.requests.length, 3)

    // A checkpoint the policy's log key did not sign is a verification failure, not something to wait for.
    const forged = await sequence([(res) => res.end(lone.replace(/— a\.example\/log [^\n]+\n/, ''))])
    const bad = await scitt('get', ID, '--node', forged.url, '--proof', '--policy', policyFile, '--wait', '5')
    assert.equal(bad.code, 1, bad.stdout + bad.stderr)
    assert.match(bad.stderr, /BAD_SIGNATURE/)

    const absent = await sequence([notFound])
    const started = Date.now()
    const timeout = await scitt('get', ID, '--node', absent.url, '--statement', '--wait', '1')
    assert.equal(timeout.code, 2)
    assert.match(timeout.stderr, /^scitt: PUSHBACK: timed out after 1000 ms waiting for .*\/statement: GET .* answered 404 \(Not Found/)
    assert.ok(Date.now() - started < 15_000)
    const noWait = await scitt('get', ID, '--node', absent.url)
    assert.equal(noWait.code, 2)
    assert.match(noWait.stderr, /NOT_FOUND/)

    const usage = await Promise.all([
      scitt('get', ID, '--node', absent.url, '--wait', 'soon'),
      scitt('get', ID, '--node', absent.url, '--min-receipts', '2'),
      scitt('get', ID, '--node', absent.url, '--policy', policyFile),
      scitt('get', ID, '--node', absent.url, '--statement', '--min-receipts', '0'),
    ])
    assert.deepEqual(usage.map((r) => r.code), [2, 2, 2, 2])
    assert.match(usage[0].stderr, /--wait must be an integer ≥ 0/)
    assert.match(usage[1].stderr, /--min-receipts goes with --statement/)
    assert.match(usage[2].stderr, /--policy goes with --proof/)
  })
})
