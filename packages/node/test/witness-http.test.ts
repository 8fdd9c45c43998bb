/**
 * The node's witness over HTTP answers hand-built C2SP tlog-witness requests built from the shared
 * vectors (test/fixtures/c2sp-notes.json) exactly as the spec says, for every status; its state moves
 * only forward, by compare-and-swap, and survives a restart. A real node limits `POST /add-checkpoint`
 * per client address (429) and in requests in flight (503) while registrations go on.
 */
import assert from 'node:assert/strict'
import { createServer, type Server } from 'node:http'
import { connect, type AddressInfo, type Socket } from 'node:net'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Level } from 'level'
import { MemoryLevel } from 'memory-level'
import {
  EMPTY_ROOT, cosignatureSigner, ed25519NoteSigner, formatAddCheckpointRequest, formatNote, fromBase64, fromHex, noteVerifierFromVkey, parseCheckpoint,
  parseNote, sha256Digest, signCheckpoint, toBase64, utf8, openNote, type NoteVerifier,
} from '@scitt/core'
import { nodeSignatures } from '@scitt/node-crypto'
import { Witness } from '../src/witness/witness.js'
import { WitnessStore } from '../src/witness/witness-store.js'
import type { FederationDb } from '../src/witness/store.js'
import { addCheckpointHandler } from '../src/http/federation-routes.js'
import { problemFor, sendProblem } from '../src/http/problem.js'
import { loadVector } from '../../../test/fixtures.js'
import { http, makeIssuer, pool, post, problem, startTestNode, statement, type RawResponse, type TestNode } from './helpers.js'

const v = loadVector('c2sp-notes')
const ORIGIN = 'example.com/scitt-log'
const logSeed = sha256Digest(utf8(v.log_key_seed_label))
const witnessSeed = sha256Digest(utf8(v.witness_key_seed_label))
const logVerifier = noteVerifierFromVkey(v.log_vkey)
const witnessVerifier = noteVerifierFromVkey(v.witness_vkey)

function memoryDb (): FederationDb {
  return new MemoryLevel<string, Uint8Array>({ keyEncoding: 'utf8', valueEncoding: 'view' })
}

interface TestWitness { url: string, store: WitnessStore, close: () => Promise<void> }

async function startWitness (db: FederationDb, keys: (origin: string) => NoteVerifier[] = (o) => (o === ORIGIN ? [logVerifier] : [])): Promise<TestWitness> {
  const store = new WitnessStore(db)
  const witness = new Witness({
    store,
    cosigner: cosignatureSigner('witness.example/w1', witnessSeed, () => 1700000000, nodeSignatures),
    logKeys: keys,
  })
  const handler = addCheckpointHandler(witness)
  const server: Server = createServer((req, res) => {
    Promise.resolve(handler({ req, res, params: [] })).catch((err) => sendProblem(res, problemFor(err, 1)))
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return { url: `http://127.0.0.1:${port}/add-checkpoint`, store, close: async () => { await new Promise((resolve) => server.close(resolve)) } }
}

function add (w: TestWitness, body: string | Uint8Array): Promise<RawResponse> {
  return http(w.url, { method: 'POST', body })
}

/** A checkpoint signed by the vector's log key (or another key under the same name). */
function signed (size: number, rootHash: Uint8Array, seed = logSeed): string {
  return formatNote(signCheckpoint({ origin: ORIGIN, size, rootHash, extensions: [] }, ed25519NoteSigner(ORIGIN, seed, nodeSignatures)))
}

const root4 = parseCheckpoint(parseNote(v.checkpoint4).text).rootHash
const root8 = parseCheckpoint(parseNote(v.checkpoint8).text).rootHash
const proofLine = v.add_checkpoint_body.split('\n')[1] as string

describe('witness: POST /add-checkpoint (C2SP tlog-witness)', function () {
  this.timeout(20_000)
  let w: TestWitness
  beforeEach(async () => { w = await startWitness(memoryDb()) })
  afterEach(async () => { await w.close() })

  it('200: cosigns the vector request with exactly the vector cosignature line, after state 4', async () => {
    const first = await add(w, `old 0\n\n${v.checkpoint4}`)
    assert.equal(first.status, 200)
    const res = await add(w, v.add_checkpoint_body)
    assert.equal(res.status, 200)
    assert.equal(res.body.toString('utf8'), v.cosig_line)
    // The client appends the lines and re-verifies: the vector's cosigned checkpoint.
    const cosigned = v.checkpoint8 + res.body.toString('utf8')
    assert.equal(cosigned, v.cosigned_checkpoint8)
    assert.equal(openNote(cosigned, [logVerifier, witnessVerifier]).verified.length, 2)
    assert.deepEqual((await w.store.get(ORIGIN))?.size, 8)
  })

  it('409: old size is not the cosigned size; body "<size>\\n" as text/x.tlog.size; old 0 probes', async () => {
    let res = await add(w, v.add_checkpoint_body)
    assert.equal(res.status, 409)
    assert.equal(res.headers['content-type'], 'text/x.tlog.size')
    assert.equal(res.body.toString('utf8'), '0\n')
    assert.equal((await add(w, `old 0\n\n${v.checkpoint4}`)).status, 200)
    res = await add(w, `old 0\n\n${v.checkpoint8}`)
    assert.equal(res.status, 409)
    assert.equal(res.body.toString('utf8'), '4\n')
    assert.equal((await w.store.get(ORIGIN))?.size, 4, 'a refusal changes no state')
  })

  it('404: an origin the witness does not know', async () => {
    const other = await startWitness(memoryDb(), () => [])
    try {
      const res = await add(other, v.add_checkpoint_body)
      assert.equal(res.status, 404)
    } finally { await other.close() }
  })

  it('403: no signature from the trusted key, or a trusted (name, id) whose signature fails', async () => {
    const otherKey = signed(4, root4, sha256Digest(utf8('not the log key')))
    assert.equal((await add(w, `old 0\n\n${otherKey}`)).status, 403)
    // The vector checkpoint with one signature byte flipped.
    const note = parseNote(v.checkpoint4)
    const sig = note.signatures[0]!
    const bad = sig.signature.slice()
    bad[10]! ^= 1
    const forged = formatNote({ text: note.text, signatures: [{ ...sig, signature: bad }] })
    assert.equal((await add(w, `old 0\n\n${forged}`)).status, 403)
    assert.equal(await w.store.get(ORIGIN), undefined)
  })

  it('400: a malformed body, or old size greater than the checkpoint size', async () => {
    for (const body of ['', 'old 04\n\n' + v.checkpoint4, 'old 0\n' + v.checkpoint4, 'old 0\nnot-base64\n\n' + v.checkpoint4, 'old 0\n\nexample.com/scitt-log\n4\n']) {
      assert.equal((await add(w, body)).status, 400, JSON.stringify(body))
    }
    assert.equal((await add(w, `old 9\n\n${v.checkpoint8}`)).status, 400)
  })

  it('422: a failing proof, a non-empty proof from 0, a bad empty root, the same size with another root', async () => {
    assert.equal((await add(w, `old 0\n\n${v.checkpoint4}`)).status, 200)
    const flipped = fromBase64(proofLine)
    flipped[0]! ^= 1
    assert.equal((await add(w, `old 4\n${toBase64(flipped)}\n\n${v.checkpoint8}`)).status, 422)
    assert.equal((await add(w, `old 4\n\n${v.checkpoint8}`)).status, 422, 'missing proof')

    const fresh = await startWitness(memoryDb())
    try {
      assert.equal((await add(fresh, `old 0\n${proofLine}\n\n${v.checkpoint4}`)).status, 422)
      assert.equal((await add(fresh, `old 0\n\n${signed(0, root4)}`)).status, 422)
      assert.equal((await add(fresh, `old 0\n\n${signed(0, EMPTY_ROOT)}`)).status, 200)
    } finally { await fresh.close() }

    assert.equal((await add(w, v.add_checkpoint_body)).status, 200)
    const fork = signed(8, fromHex('11'.repeat(32)))
    const res = await add(w, `old 8\n\n${fork}`)
    assert.equal(res.status, 422)
    assert.deepEqual((await w.store.get(ORIGIN))?.rootHash, root8)
  })

  it('413: a body over the limit is refused before it is read', async () => {
    const res = await add(w, 'old 0\n' + 'A'.repeat(1_100_000))
    assert.equal(res.status, 413)
  })

  it('compare-and-swap: of two concurrent requests from the same old size, exactly one is cosigned', async () => {
    assert.equal((await add(w, `old 0\n\n${v.checkpoint4}`)).status, 200)
    const statuses = (await Promise.all([add(w, v.add_checkpoint_body), add(w, v.add_checkpoint_body), add(w, v.add_checkpoint_body)])).map((r) => r.status).sort()
    assert.deepEqual(statuses, [200, 409, 409])
  })

  it('persists its state before answering: it survives a restart on LevelDB', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'scitt-witness-'))
    try {
      let db = new Level<string, Uint8Array>(dir, { keyEncoding: 'utf8', valueEncoding: 'view' })
      let lw = await startWitness(db)
      assert.equal((await add(lw, `old 0\n\n${v.checkpoint4}`)).status, 200)
      await lw.close()
      await db.close()
      db = new Level<string, Uint8Array>(dir, { keyEncoding: 'utf8', valueEncoding: 'view' })
      lw = await startWitness(db)
      const res = await add(lw, `old 0\n\n${v.checkpoint8}`)
      assert.equal(res.status, 409)
      assert.equal(res.body.toString('utf8'), '4\n')
      assert.equal((await add(lw, v.add_checkpoint_body)).status, 200)
      await lw.close()
      await db.close()
    } finally { await rm(dir, { recursive: true, force: true }) }
  })
})

/** A well-formed request for a distinct unknown origin of ~100 KB (signed by a key no policy names). */
function floodRequest (i: number): string {
  const origin = `flood.example/${i}/${'o'.repeat(100_000)}`
  const note = formatNote(signCheckpoint({ origin, size: 1, rootHash: new Uint8Array(32), extensions: [] }, ed25519NoteSigner('flood.example/log', sha256Digest(utf8('flood')), nodeSignatures)))
  return formatAddCheckpointRequest({ oldSize: 0, proof: [], checkpoint: note })
}

/** A real node (in this process, 127.0.0.1, port 0) witnessing the vector log, with `addCheckpoint` limits. */
async function startWitnessNode (addCheckpoint: Record<string, unknown>, issuer: ReturnType<typeof makeIssuer>): Promise<{ t: TestNode, dir: string }> {
  const dir = await mkdtemp(join(tmpdir(), 'scitt-witness-limits-'))
  const policy = join(dir, 'policy.txt')
  await writeFile(policy, `log ${v.log_vkey}\nquorum none\n`)
  try {
    const t = await startTestNode((c) => {
      c.registration.issuers = [{ iss: issuer.iss, keys: [{ jwk: issuer.jwk }] }]
      c.federation = { name: 'witness-limits', listen: ['/ip4/127.0.0.1/tcp/0'], bootstrap: [], trustPolicy: policy, roles: ['witness'] }
      c.limits.addCheckpoint = addCheckpoint
    })
    return { t, dir }
  } catch (err) {
    await rm(dir, { recursive: true, force: true })
    throw err
  }
}

describe('witness: POST /add-checkpoint limits on a real node', function () {
  this.timeout(60_000)
  const issuer = makeIssuer('https://issuer.example')

  it('a flood of distinct unknown ~100 KB origins from one address gets 429 + Retry-After; registrations still succeed', async () => {
    const { t, dir } = await startWitnessNode({ rateLimit: { perSecond: 5, burst: 20, maxClients: 100 }, maxInFlight: 8, maxInFlightPerClient: 8 }, issuer)
    try {
      const started = performance.now()
      const flood = pool(8, Array.from({ length: 200 }, (_, i) => async () => await http(`${t.url}/add-checkpoint`, { method: 'POST', body: floodRequest(i) })))
      const registered: number[] = []
      for (let i = 0; i < 20; i++) registered.push((await post(t.url, statement(issuer))).status)
      const answers = await flood
      const seconds = (performance.now() - started) / 1000
      const statuses = answers.map((r) => r.status)
      const limited = answers.filter((r) => r.status === 429)
      assert.deepEqual([...new Set(statuses)].sort(), [404, 429], `statuses: ${[...new Set(statuses)].join(', ')}`)
      // At most the burst plus the refill over the flood's duration got through.
      assert.ok(statuses.filter((s) => s === 404).length <= 20 + Math.ceil(5 * seconds) + 1, `${statuses.filter((s) => s === 404).length} answered in ${seconds.toFixed(1)} s`)
      for (const r of limited) {
        assert.ok(Number(r.headers['retry-after']) >= 1, 'Retry-After in seconds')
        assert.equal(problem(r).title, 'Too Many Requests')
      }
      assert.ok(registered.every((s) => s === 201 || s === 303), `registrations answered ${registered.join(', ')}`)
      // Once the client waits as told, the known log is cosigned.
      await new Promise((resolve) => setTimeout(resolve, 1000 * Number(limited.at(-1)!.headers['retry-after'])))
      const res = await http(`${t.url}/add-checkpoint`, { method: 'POST', body: `old 0\n\n${v.checkpoint4}` })
      assert.equal(res.status, 200, res.body.toString())
    } finally {
      await t.stop()
      await rm(dir, { recursive: true, force: true })
    }
  })

  it('requests in flight above maxInFlight get 503 + Retry-After; a slot is free again when its client goes away', async () => {
    const { t, dir } = await startWitnessNode({ rateLimit: null, maxInFlight: 2, maxInFlightPerClient: 2 }, issuer)
    const held: Socket[] = []
    try {
      const { port } = new URL(t.url)
      // Two requests whose bodies never finish hold both slots.
      for (let i = 0; i < 2; i++) {
        const socket = connect(Number(port), '127.0.0.1')
        socket.on('error', () => {})
        held.push(socket)
        await new Promise<void>((resolve) => socket.once('connect', resolve))
        socket.write('POST /add-checkpoint HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 1000\r\n\r\nold 0\n')
      }
      let busy: RawResponse | undefined
      for (let i = 0; i < 50 && busy?.status !== 503; i++) {
        await new Promise((resolve) => setTimeout(resolve, 20))
        busy = await http(`${t.url}/add-checkpoint`, { method: 'POST', body: floodRequest(i) })
      }
      assert.equal(busy?.status, 503)
      assert.equal(busy.headers['retry-after'], String(t.config.limits.retryAfterSeconds))
      assert.equal(problem(busy).title, 'Service Unavailable')
      for (const socket of held) socket.destroy()
      let after: RawResponse | undefined
      for (let i = 0; i < 50 && after?.status !== 404; i++) {
        await new Promise((resolve) => setTimeout(resolve, 20))
        after = await http(`${t.url}/add-checkpoint`, { method: 'POST', body: floodRequest(i) })
      }
      assert.equal(after?.status, 404)
      assert.equal((await post(t.url, statement(issuer))).status, 201)
    } finally {
      for (const socket of held) socket.destroy()
      await t.stop()
      await rm(dir, { recursive: true, force: true })
    }
  })
})
