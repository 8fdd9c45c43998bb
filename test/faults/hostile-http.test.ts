/**
 * Fault suite, hostile HTTP clients against a real node (in this process, port 0, LevelDB in
 * a temp dir, federation on with the witness role): mutated SCRAPI bodies to POST /entries, mutated
 * C2SP witness requests to POST /add-checkpoint, odd request targets for tiles, entries and keys, huge
 * declared lengths, CBOR heads declaring 2^60-byte strings, deep nesting, endless chunked bodies, bodies
 * to routes that do not read them, and slow (slowloris) headers and bodies. Every answer is a 4xx with
 * CBOR problem details (C2SP statuses for the witness), never a 5xx; the node keeps serving; rejected
 * requests change neither the log's checkpoint nor the witness state; the process's RSS stays bounded.
 */
import assert from 'node:assert/strict'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import fc from 'fast-check'
import {
  MEDIA_TYPE, buildStatement, decodeProblemDetails, encodeSign1, entryBytes, entryId, formatAddCheckpointRequest, leafHash, toHex, utf8,
} from '@scitt/core'
import { http, makeIssuer, pool, post, statement, startTestNode, type RawResponse, type TestNode } from '../../packages/node/test/helpers.js'
import { loadVector } from '../fixtures.js'
import { hostile } from './mutate.js'
import { MiB, rawRequest, sampleRss, sleep, type RawAnswer } from './hostile-socket.js'
import { record } from './report.js'

const notes = loadVector('c2sp-notes')
const WITNESS_STATUSES = [400, 403, 404, 409, 422]
/** Time within which the server must have closed (or answered) a connection that trickles its request. */
const SLOW_BOUND_MS = 45_000

/** Counts statuses, e.g. "400×312 413×20". */
function tally (statuses: number[]): string {
  const counts = new Map<number, number>()
  for (const s of statuses) counts.set(s, (counts.get(s) ?? 0) + 1)
  return [...counts].sort((a, b) => a[0] - b[0]).map(([s, n]) => `${s}×${n}`).join(' ')
}

/** Asserts an error answer carries RFC 9290 problem details in CBOR. */
function assertProblem (status: number, headers: Record<string, string | string[] | undefined>, body: Uint8Array, what: string): void {
  assert.equal(headers['content-type'], MEDIA_TYPE.problemDetails, `${what}: ${status} without problem details`)
  decodeProblemDetails(new Uint8Array(body))
}

describe('faults: hostile HTTP clients against a real node', function () {
  this.timeout(120_000)
  const issuer = makeIssuer('https://issuer.example')
  let dir: string
  let t: TestNode
  let port: number
  /** Entry ids acknowledged with 201/303 during the file (valid samples, and mutants that stayed valid). */
  const acknowledged = new Set<string>()
  let checkpointBefore: string
  let witnessSize = 4
  let slowloris: Promise<{ answers: RawAnswer[], started: number }>

  const checkpoint = async (): Promise<string> => (await http(`${t.url}/checkpoint`)).body.toString('utf8')
  /** The witness's cosigned size for the vector log, probed with `old 0` (C2SP: 409 and the size). */
  const witnessState = async (): Promise<number> => {
    const res = await http(`${t.url}/add-checkpoint`, { method: 'POST', body: formatAddCheckpointRequest({ oldSize: 0, proof: [], checkpoint: notes.checkpoint8 }) })
    assert.equal(res.status, 409)
    return Number(res.body.toString('utf8').trim())
  }
  const register = async (body: Uint8Array): Promise<void> => {
    const res = await post(t.url, body)
    assert.ok(res.status === 201 || res.status === 303, `registration answered ${res.status}`)
    acknowledged.add(entryId(entryBytes(body)))
  }

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'scitt-faults-http-'))
    const policy = join(dir, 'policy.txt')
    await writeFile(policy, `log ${notes.log_vkey}\nquorum none\n`)
    t = await startTestNode((c) => {
      c.registration.issuers = [{ iss: issuer.iss, keys: [{ jwk: issuer.jwk }] }]
      c.federation = { name: 'faults-http', listen: ['/ip4/127.0.0.1/tcp/0'], bootstrap: [], trustPolicy: policy, roles: ['witness'] }
    })
    port = Number(new URL(t.url).port)
    // Slow clients start first and trickle while the other tests run (each gives up after SLOW_BOUND_MS + 1 s).
    slowloris = startSlowloris()
    await register(statement(issuer))
    await register(statement(issuer))
    // The witness cosigns the vector log at size 4.
    const seed = await http(`${t.url}/add-checkpoint`, { method: 'POST', body: formatAddCheckpointRequest({ oldSize: 0, proof: [], checkpoint: notes.checkpoint4 }) })
    assert.equal(seed.status, 200, seed.body.toString())
    assert.equal(await witnessState(), 4)
    checkpointBefore = await checkpoint()
  })

  after(async () => {
    await slowloris?.catch(() => {})
    await t?.stop()
    await rm(dir, { recursive: true, force: true })
  })

  /** 16 bodies and 4 header blocks trickled at 1 byte per 100 ms (POST /entries). */
  function startSlowloris (): Promise<{ answers: RawAnswer[], started: number }> {
    const started = Date.now()
    const trickle = (text: string) => async (write: (chunk: Buffer) => Promise<void>, stopped: () => boolean): Promise<void> => {
      for (let i = 0; !stopped() && Date.now() - started < SLOW_BOUND_MS; i++) {
        await write(Buffer.from(text[i % text.length]!))
        await sleep(100)
      }
    }
    const bodies = Array.from({ length: 16 }, () => rawRequest(port, {
      head: `POST /entries HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/cose\r\nContent-Length: 100000\r\n\r\n`,
      body: trickle('\x84'),
      timeoutMs: SLOW_BOUND_MS + 1000,
    }))
    const headers = Array.from({ length: 4 }, () => rawRequest(port, {
      head: 'POST /entries HTTP/1.1\r\n',
      body: trickle('X-Slow: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n'),
      timeoutMs: SLOW_BOUND_MS + 1000,
    }))
    return Promise.all([...bodies, ...headers]).then((answers) => ({ answers, started }))
  }

  it('mutated SCRAPI bodies to POST /entries: 4xx problem details, no 5xx, the checkpoint moves only for accepted entries', async () => {
    const es256 = makeIssuer('https://issuer.example', 'ES256')
    const samples = [
      statement(issuer),
      encodeSign1(buildStatement({
        signer: issuer.signer, kid: issuer.kid, iss: issuer.iss, sub: 'fw@2', payload: utf8('image'),
        hashEnvelope: { hashAlg: -16, preimageContentType: 'application/octet-stream', location: 'https://fw.example/i' },
      })),
      statement(es256),
    ]
    const mutants = fc.sample(hostile(samples, 'cbor'), { numRuns: 400 })
    const types = [MEDIA_TYPE.cose, MEDIA_TYPE.scittStatement, `${MEDIA_TYPE.cose}; charset=binary`, 'application/cbor', '']
    const statuses = await pool(8, mutants.map((m, i) => async () => {
      const contentType = i % 10 === 9 ? types[(i / 10) % types.length]! : MEDIA_TYPE.cose
      const res = await post(t.url, m.bytes, contentType)
      if (res.status === 201 || res.status === 303) {
        acknowledged.add(entryId(entryBytes(m.bytes)))
      } else {
        assert.ok(res.status >= 400 && res.status < 500, `mutant ${m.kind} answered ${res.status}`)
        assertProblem(res.status, res.headers, res.body, `mutant ${m.kind}`)
      }
      return res.status
    }))
    const accepted = statuses.filter((s) => s === 201 || s === 303).length
    const after = await checkpoint()
    if (accepted === 0) assert.equal(after, checkpointBefore, 'rejected registrations left the checkpoint unchanged')
    assert.ok(statuses.some((s) => s === 400) && statuses.some((s) => s === 413 || s === 415), tally(statuses))
    const found = await countFound()
    record({
      scenario: 'hostile HTTP: mutated POST /entries bodies',
      cases: mutants.length,
      faults: mutants.length - accepted,
      acknowledged: acknowledged.size,
      found,
      result: 'pass',
      notes: `statuses ${tally(statuses)}; checkpoint ${accepted === 0 ? 'unchanged' : `moved by ${accepted}`}`,
    })
    assert.equal(found, acknowledged.size)
  })

  /** Entries of `acknowledged` that the node serves (200 receipt). */
  async function countFound (): Promise<number> {
    let found = 0
    for (const id of acknowledged) if ((await http(`${t.url}/entries/${id}`)).status === 200) found++
    return found
  }

  it('mutated C2SP witness requests to POST /add-checkpoint: only C2SP statuses, the witness state moves only on 200', async () => {
    const mutants = fc.sample(hostile([utf8(notes.add_checkpoint_body)], 'text', ['old', '4', '8', '']), { numRuns: 400 })
    const before = await checkpoint()
    const statuses = await pool(8, mutants.map((m) => async () => {
      const res = await http(`${t.url}/add-checkpoint`, { method: 'POST', body: m.bytes })
      if (res.status === 413) assertProblem(res.status, res.headers, res.body, 'add-checkpoint 413')
      else assert.ok(res.status === 200 || WITNESS_STATUSES.includes(res.status), `add-checkpoint ${m.kind} answered ${res.status}: ${res.body.toString().slice(0, 200)}`)
      return res.status
    }))
    const cosigned = statuses.filter((s) => s === 200).length
    const state = await witnessState()
    // Only the vector's own request (old 4 → 8) can be cosigned, and only once.
    if (cosigned === 0) assert.equal(state, witnessSize, 'refused requests left the witness state unchanged')
    else assert.equal(state, 8)
    witnessSize = state
    assert.equal(await checkpoint(), before, 'witness requests do not touch the log')
    record({
      scenario: 'hostile HTTP: mutated POST /add-checkpoint',
      cases: mutants.length,
      faults: mutants.length - cosigned,
      acknowledged: 0,
      found: 0,
      result: 'pass',
      notes: `statuses ${tally(statuses)}; witness state ${state === 4 ? 'unchanged (4)' : `4 → ${state}`}`,
    })
  })

  it('odd request targets (tiles, entries, keys, absolute forms, methods): never 5xx, problem details on every 4xx', async () => {
    const hex = toHex(leafHash(utf8('absent')))
    const handmade = [
      '/tile/0/000', '/tile/0/001', '/tile/0/000.p/0', '/tile/0/000.p/256', '/tile/0/000.p/999', '/tile/0/000.p/-1', '/tile/64/000', '/tile/63/000',
      '/tile/-1/000', '/tile/0/x999/x999/x999/x999/x999/000', '/tile/0/x18446744073709551616', '/tile/entries/000', '/tile/entries/000.p/1',
      '/tile/entries/x999/000.p/255', `/tile/0/${'x000/'.repeat(2000)}000`, '/tile//0/000', '/tile/0/000?x=1', '/tile/0/%30%30%30', '/tile/../checkpoint',
      '/tile', '/tile/', '/tile/entries', '/./checkpoint', '/checkpoint/', '/checkpoint?', '/entries', '/entries/', `/entries/${'A'.repeat(64)}`,
      `/entries/${hex}`, `/entries/${hex}/statement`, `/entries/${hex}/proof`, `/entries/${hex}/statement/x`, `/entries/${hex}%00`, `/entries/${'a'.repeat(4000)}`,
      '/.well-known/scitt-keys/%zz', '/.well-known/scitt-keys/!!', '/.well-known/scitt-keys/AAAA', '/.well-known/scitt-keys//', '/add-checkpoint/x',
      '/evidence/..', '/federation?x', '/metrics/x', '//evil.example/checkpoint', '*', 'http://127.0.0.1/checkpoint', 'http://[', 'http://a:99999/x',
      'http://%zz/', 'https://exa%20mple/', 'http:', 'x:y',
    ]
    const words = ['tile', 'entries', '0', '1', 'x000', '000', '.p', '/', '256', 'x', '..', '%2F', '%00', '%', 'checkpoint', '.well-known', 'scitt-keys', 'statement', 'proof', '-1', '18446744073709551616', '?', '#', ';']
    const generated = fc.sample(fc.tuple(fc.constantFrom('/tile/', '/tile/entries/', '/entries/', '/'), fc.array(fc.constantFrom(...words), { maxLength: 12 }))
      .map(([prefix, w]) => `${prefix}${w.join('')}`), { numRuns: 400 })
    const methods = ['GET', 'GET', 'GET', 'POST', 'HEAD', 'DELETE', 'OPTIONS', 'PUT']
    const targets = [...handmade, ...generated]
    let parsed = 0
    const failures: string[] = []
    const answers = await pool(8, targets.map((target, i) => async () => {
      const method = i < handmade.length ? 'GET' : methods[i % methods.length]!
      const a = await rawRequest(port, { head: `${method} ${target} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 0\r\nConnection: close\r\n\r\n`, timeoutMs: 5000 })
      if (a.status === 0 || a.status >= 500) failures.push(`${method} ${target} → ${a.status}`)
      else if (a.status >= 400 && method !== 'HEAD') {
        // Every 4xx has problem details, also a refusal by node:http's own parser (no route ran).
        if (a.headers.connection === 'close' && /\(HPE_/.test(a.body.toString('latin1'))) parsed++
        try {
          assertProblem(a.status, a.headers, a.body, `${method} ${target}`)
        } catch (err) {
          failures.push((err as Error).message)
        }
      }
      return a.status
    }))
    assert.equal((await http(`${t.url}/healthz`)).status, 200)
    record({
      scenario: 'hostile HTTP: odd targets and methods',
      cases: targets.length,
      faults: answers.filter((s) => s >= 400).length,
      acknowledged: 0,
      found: 0,
      result: failures.length === 0 ? 'pass' : 'fail',
      notes: `statuses ${tally(answers)}; ${parsed} refused by node:http's parser${failures.length === 0 ? '' : `; FAILED: ${failures.join(', ')}`}`,
    })
    assert.deepEqual(failures, [], 'every odd target gets a 4xx with problem details, never a 5xx')
  })

  it('huge declared lengths, 2^60-byte CBOR heads, deep nesting, endless chunked bodies: 413/400 early, RSS bounded', async () => {
    const limit = t.config.limits.maxBodyBytes
    const chunk = Buffer.alloc(64 * 1024, 0x41)
    const cpBefore = await checkpoint()
    const baseline = process.memoryUsage().rss
    const rss = sampleRss()
    /** Streams `chunk`s (raw, or as HTTP chunks) for at most `ms` or `max` bytes, or until the server answers. */
    const stream = (max: number, ms: number, chunked: boolean) => async (write: (c: Buffer) => Promise<void>, stopped: () => boolean): Promise<void> => {
      const end = Date.now() + ms
      const framed = chunked ? Buffer.concat([Buffer.from(`${chunk.length.toString(16)}\r\n`), chunk, Buffer.from('\r\n')]) : chunk
      for (let sent = 0; sent < max && Date.now() < end && !stopped(); sent += chunk.length) await write(framed)
    }
    const huge = (path: string, type = 'application/cose'): Promise<RawAnswer> => rawRequest(port, {
      head: `POST ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: ${type}\r\nContent-Length: ${2 ** 30}\r\n\r\n`,
      body: stream(256 * MiB, 3000, false),
      timeoutMs: 5000,
      closeWithinMs: 2000,
    })
    const endless = (path: string): Promise<RawAnswer> => rawRequest(port, {
      head: `POST ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/cose\r\nTransfer-Encoding: chunked\r\n\r\n`,
      body: stream(256 * MiB, 3000, true),
      timeoutMs: 5000,
      closeWithinMs: 2000,
    })
    const cbor = (body: Uint8Array): Promise<RawResponse> => post(t.url, body)
    const head60 = Uint8Array.of(0xd2, 0x84, 0x5b, 0x10, 0, 0, 0, 0, 0, 0, 0, 0xa0)
    const text60 = Uint8Array.of(0xd2, 0x84, 0x40, 0xa1, 0x01, 0x7b, 0x10, 0, 0, 0, 0, 0, 0, 0)
    const array60 = Uint8Array.of(0x9b, 0x10, 0, 0, 0, 0, 0, 0, 0)
    const map60 = Uint8Array.of(0xd2, 0xbb, 0x10, 0, 0, 0, 0, 0, 0, 0)
    const deepArrays = Buffer.concat([Buffer.alloc(200_000, 0x81), Buffer.of(0)])
    const deepMaps = Buffer.concat([Buffer.from(Array.from({ length: 50_000 }, () => [0xa1, 0x01]).flat()), Buffer.of(0)])
    const deepTags = Buffer.concat([Buffer.alloc(200_000, 0xd2), Buffer.of(0)])
    const [declared, witnessDeclared, chunkedEntries, chunkedWitness, many, heads, unread] = await Promise.all([
      huge('/entries'),
      huge('/add-checkpoint', 'text/plain'),
      endless('/entries'),
      endless('/add-checkpoint'),
      Promise.all(Array.from({ length: 12 }, () => endless('/entries'))),
      Promise.all([head60, text60, array60, map60, deepArrays, deepMaps, deepTags].flatMap((b) => [cbor(b), cbor(b)])),
      // A route that never reads its body: node:http discards it; the answer does not wait for it.
      rawRequest(port, { head: `GET /checkpoint HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: ${2 ** 30}\r\n\r\n`, body: stream(64 * MiB, 2000, false), timeoutMs: 5000 }),
    ])
    const peak = rss.stop()
    for (const [name, a] of [['Content-Length 1 GiB /entries', declared], ['Content-Length 1 GiB /add-checkpoint', witnessDeclared]] as const) {
      assert.equal(a.status, 413, name)
      assertProblem(a.status, a.headers, a.body, name)
      assert.ok(a.ms < 1000, `${name}: answered after ${a.ms.toFixed(0)} ms`)
      assert.ok(a.closed, `${name}: the server closes the connection`)
    }
    for (const [name, a] of [['endless chunked /entries', chunkedEntries], ['endless chunked /add-checkpoint', chunkedWitness], ...many.map((m) => ['endless chunked /entries ×12', m] as const)] as const) {
      assert.equal(a.status, 413, `${name}: ${a.status}`)
      assertProblem(a.status, a.headers, a.body, name)
      assert.ok(a.closed, `${name}: the server closes the connection`)
      assert.ok(a.sent < 4 * MiB + 2 * limit, `${name}: the client got ${a.sent} bytes in before the cut`)
    }
    for (const res of heads) {
      assert.ok(res.status === 400 || res.status === 413, `CBOR head answered ${res.status}`)
      assertProblem(res.status, res.headers, res.body, 'hostile CBOR head')
    }
    assert.equal(unread.status, 200, 'GET with an unread 1 GiB body')
    const growth = peak - baseline
    assert.ok(growth < 96 * MiB, `RSS grew by ${(growth / MiB).toFixed(1)} MiB`)
    assert.equal(await checkpoint(), cpBefore, 'the checkpoint did not move')
    assert.equal(await witnessState(), witnessSize)
    const streamed = [declared, witnessDeclared, chunkedEntries, chunkedWitness, ...many, unread].reduce((a, r) => a + r.sent, 0)
    const cutAt = Math.max(...[chunkedEntries, chunkedWitness, ...many].map((a) => a.sent))
    record({
      scenario: 'hostile HTTP: huge lengths, nesting, endless bodies',
      cases: 5 + many.length + heads.length,
      faults: 5 + many.length + heads.length,
      acknowledged: 0,
      found: 0,
      result: 'pass',
      notes: `413 in ≤${Math.max(declared.ms, witnessDeclared.ms).toFixed(0)} ms for 1 GiB declared; endless chunked cut after ≤${(cutAt / MiB).toFixed(1)} MiB sent; ${(streamed / MiB).toFixed(0)} MiB streamed in all; RSS +${(growth / MiB).toFixed(1)} MiB (peak ${(peak / MiB).toFixed(0)} MiB)`,
    })
  })

  it(`slowloris (16 bodies, 4 header blocks at 1 byte / 100 ms): the node keeps serving and cuts every slow request within ${SLOW_BOUND_MS / 1000} s`, async () => {
    // While they trickle, ordinary requests are answered promptly.
    const latencies: number[] = []
    for (let i = 0; i < 20; i++) {
      const started = performance.now()
      assert.equal((await http(`${t.url}/checkpoint`)).status, 200)
      latencies.push(performance.now() - started)
    }
    await register(statement(issuer))
    const { answers, started } = await slowloris
    const slowest = Math.max(...answers.map((a) => a.ms))
    const cut = answers.filter((a) => a.closed || a.status === 408 || (a.status >= 400 && a.status < 500))
    record({
      scenario: 'hostile HTTP: slowloris headers and bodies',
      cases: answers.length + latencies.length,
      faults: answers.length,
      acknowledged: 0,
      found: 0,
      result: cut.length === answers.length ? 'pass' : 'fail',
      notes: `${cut.length}/${answers.length} slow requests cut (statuses ${tally(answers.map((a) => a.status))}, last after ${(slowest / 1000).toFixed(1)} s); ordinary GET p100 ${Math.max(...latencies).toFixed(0)} ms`,
    })
    assert.ok(Math.max(...latencies) < 1000, `ordinary requests took up to ${Math.max(...latencies).toFixed(0)} ms`)
    assert.equal(cut.length, answers.length, `${answers.length - cut.length} of ${answers.length} slow requests were still open after ${((Date.now() - started) / 1000).toFixed(0)} s (statuses ${tally(answers.map((a) => a.status))})`)
    for (const a of answers) assert.ok(a.ms <= SLOW_BOUND_MS, `a slow request was cut only after ${(a.ms / 1000).toFixed(1)} s`)
  })

  it('after every attack: the log holds exactly the acknowledged entries and the checkpoint covers them', async () => {
    const found = await countFound()
    assert.equal(found, acknowledged.size)
    const size = t.node.log.latestCheckpoint()!.size
    assert.equal(size, acknowledged.size, 'no rejected request added an entry')
    assert.equal((await http(`${t.url}/healthz`)).status, 200)
  })
})
