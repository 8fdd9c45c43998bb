import assert from 'node:assert/strict'
import { connect } from 'node:net'
import { gunzipSync } from 'node:zlib'
import {
  CompactRange, Tagged, buildStatement, didKeyFromPublicKey, decodeCbor, decodeCoseKeySet, decodeCoseKey, decodeSign1, encodeCbor, encodeSign1,
  entryBytes, entryId, equalBytes, getReceipts, leafHash, parseCheckpoint, parseEntryBundle, parseHashTile, parseNote,
  parseProofFile, sigStructure, toBase64Url, verifyProofFile, verifyReceipt,
} from '@scitt/core'
import { nodeSignatures } from '@scitt/node-crypto'
import { bytes, http, makeIssuer, post, problem, startTestNode, statement, type RawResponse, type TestNode } from './helpers.js'

const vendor = makeIssuer('vendor.example', 'Ed25519')
const es256 = makeIssuer('es256.example', 'ES256')
const es384 = makeIssuer('es384.example', 'ES384')
const stranger = makeIssuer('stranger.example', 'Ed25519')

/** A did:key issuer: Ed25519 (0xed 0x01) or P-256 (0x80 0x24, compressed point). */
function didKeyIssuer (algorithm: 'Ed25519' | 'ES256'): ReturnType<typeof makeIssuer> {
  const issuer = makeIssuer('', algorithm)
  return { ...issuer, iss: didKeyFromPublicKey(algorithm, issuer.signer.publicKey), kid: new TextEncoder().encode('did-key') }
}

/** Writes raw bytes on a new connection; the answer, read until the server closes (within 5 s). */
function rawExchange (url: string, request: string): Promise<RawResponse & { closed: boolean }> {
  return new Promise((resolve, reject) => {
    const socket = connect(Number(new URL(url).port), '127.0.0.1')
    const chunks: Buffer[] = []
    const timer = setTimeout(() => { socket.destroy(); reject(new Error('the server did not close within 5 s')) }, 5000)
    socket.on('data', (c: Buffer) => chunks.push(c))
    socket.on('error', () => {})
    socket.on('close', () => {
      clearTimeout(timer)
      const data = Buffer.concat(chunks)
      const end = data.indexOf('\r\n\r\n')
      if (end < 0) return reject(new Error(`no HTTP answer: ${JSON.stringify(data.toString('latin1').slice(0, 200))}`))
      const [statusLine, ...lines] = data.subarray(0, end).toString('latin1').split('\r\n')
      const headers: Record<string, string> = {}
      for (const line of lines) headers[line.slice(0, line.indexOf(':')).toLowerCase()] = line.slice(line.indexOf(':') + 1).trim()
      resolve({ status: Number(statusLine!.split(' ')[1]), headers, body: data.subarray(end + 4), closed: true })
    })
    socket.write(request)
  })
}

async function treeSize (t: TestNode): Promise<number> {
  const res = await http(`${t.url}/checkpoint`)
  return parseCheckpoint(parseNote(res.body.toString('utf8')).text).size
}

describe('scitt-node over HTTP', function () {
  this.timeout(30_000)
  let t: TestNode
  let receiptKeys: ReturnType<typeof decodeCoseKeySet>

  const verifyWithServedKeys = (receipt: Uint8Array, entry: Uint8Array): ReturnType<typeof verifyReceipt> =>
    verifyReceipt(receipt, { entry }, (kid) => {
      const key = receiptKeys.find((k) => kid !== undefined && k.kid !== undefined && equalBytes(k.kid, kid))
      return key === undefined ? undefined : nodeSignatures.verifier(key.algorithm, key.publicKey)
    })

  before(async () => {
    t = await startTestNode((c) => {
      c.issuer = 'https://ts.example'
      c.limits.maxBodyBytes = 70_000
      c.registration.maxStatementSize = 8192
      c.registration.algorithms = ['Ed25519', 'ES256']
      c.registration.contentTypes = ['application/json', 'application/spdx+json']
      c.registration.issuers = [
        { iss: vendor.iss, keys: [{ jwk: vendor.jwk }] },
        { iss: es256.iss, keys: [{ coseKey: toBase64Url(encodeCbor(new Map<number, any>([[1, 2], [-1, 1], [-2, es256.signer.publicKey.subarray(1, 33)], [-3, es256.signer.publicKey.subarray(33)]]))) }] },
        { iss: es384.iss, keys: [{ jwk: es384.jwk }] },
      ]
      c.registration.didKey = { enabled: true, algorithms: ['Ed25519', 'ES256'] }
    })
    const res = await http(`${t.url}/.well-known/scitt-keys`)
    receiptKeys = decodeCoseKeySet(bytes(res))
  })
  after(async () => { await t.stop() })

  describe('registration', () => {
    it('builds Location from the address the client reached, never from its Host header', async () => {
      const body = statement(vendor)
      const res = await http(`${t.url}/entries`, { method: 'POST', body, headers: { 'content-type': 'application/cose', host: 'evil.example' } })
      assert.equal(res.status, 201)
      assert.equal(res.headers.location, `${t.url}/entries/${entryId(entryBytes(body))}`)
    })

    it('answers 201 with a receipt that verifies with the served keys', async () => {
      const body = statement(vendor)
      const res = await post(t.url, body)
      assert.equal(res.status, 201)
      assert.equal(res.headers['content-type'], 'application/cose')
      const entry = entryBytes(body)
      assert.equal(res.headers.location, `${t.url}/entries/${entryId(entry)}`)
      const verified = verifyWithServedKeys(bytes(res), entry)
      assert.equal(verified.iss, 'https://ts.example')
      assert.ok(verified.leafIndex < verified.treeSize)
    })

    it('accepts application/scitt-statement+cose, ES256 issuers given as COSE_Key, and hash envelopes', async () => {
      assert.equal((await post(t.url, statement(es256), 'application/scitt-statement+cose')).status, 201)
      const envelope = encodeSign1(buildStatement({
        signer: vendor.signer, kid: vendor.kid, iss: vendor.iss, sub: 'sbom', payload: new TextEncoder().encode('a large SBOM'),
        hashEnvelope: { hashAlg: -16, preimageContentType: 'application/spdx+json' },
      }))
      assert.equal((await post(t.url, envelope)).status, 201)
    })

    it('accepts did:key issuers (Ed25519 and P-256) when the policy enables them', async () => {
      for (const alg of ['Ed25519', 'ES256'] as const) {
        const res = await post(t.url, statement(didKeyIssuer(alg)))
        assert.equal(res.status, 201, alg)
      }
    })

    it('gives a statement registered twice the same entry and the same receipt', async () => {
      const body = statement(vendor)
      const first = await post(t.url, body)
      // The same statement with something in its unprotected header is the same entry.
      const sign1 = decodeSign1(body)
      const again = encodeSign1({ ...sign1, unprotected: new Map([[33, new Uint8Array(4)]]) })
      const second = await post(t.url, again)
      assert.equal(first.status, 201)
      assert.equal(second.status, 201)
      assert.equal(second.headers.location, first.headers.location)
      assert.deepEqual(second.body, first.body)
    })

    it('serves the receipt, the transparent statement and an offline proof for an entry', async () => {
      const body = statement(vendor)
      const created = await post(t.url, body)
      const entry = entryBytes(body)
      const id = entryId(entry)
      const got = await http(`${t.url}/entries/${id}`)
      assert.equal(got.status, 200)
      assert.equal(got.headers['content-type'], 'application/cose')
      verifyWithServedKeys(bytes(got), entry)
      assert.deepEqual(got.body, created.body)

      const ts = await http(`${t.url}/entries/${id}/statement`)
      assert.equal(ts.status, 200)
      assert.equal(ts.headers['content-type'], 'application/scitt-statement+cose')
      const receipts = getReceipts(bytes(ts))
      assert.equal(receipts.length, 1)
      verifyWithServedKeys(receipts[0]!, entry)
      assert.deepEqual(entryBytes(bytes(ts)), entry)

      const proof = await http(`${t.url}/entries/${id}/proof`)
      assert.equal(proof.status, 200)
      const file = parseProofFile(proof.body.toString('utf8'))
      const cp = verifyProofFile(file, leafHash(entry), t.logVerifier)
      assert.equal(cp.origin, t.config.origin)
    })

    it('answers 404 for an unknown entry and 400 for a malformed entry id', async () => {
      const unknown = await http(`${t.url}/entries/${'ab'.repeat(32)}`)
      assert.equal(unknown.status, 404)
      assert.equal(problem(unknown).title, 'Not Found')
      for (const path of ['statement', 'proof']) assert.equal((await http(`${t.url}/entries/${'ab'.repeat(32)}/${path}`)).status, 404)
      const bad = await http(`${t.url}/entries/XYZ`)
      assert.equal(bad.status, 400)
      assert.equal(problem(bad).title, 'Invalid locator')
    })
  })

  describe('rejections change no state', () => {
    const cases: Array<{ name: string, status: number, title: string, body: () => Uint8Array | string, type?: string }> = [
      { name: 'truncated CBOR', status: 400, title: 'Malformed request', body: () => statement(vendor).subarray(0, 40) },
      { name: 'not CBOR at all', status: 400, title: 'Malformed request', body: () => new TextEncoder().encode('{"hello": "json"}') },
      { name: 'wrong tag (17)', status: 400, title: 'Malformed request', body: () => { const v = decodeCbor(statement(vendor), { tags: [18] }) as Tagged; return encodeCbor(new Tagged(17, v.value)) } },
      { name: 'untagged COSE_Sign1', status: 400, title: 'Malformed request', body: () => encodeCbor((decodeCbor(statement(vendor), { tags: [18] }) as Tagged).value) },
      { name: 'missing CWT claims', status: 400, title: 'Malformed request', body: () => resign(vendor, (h) => h.delete(15)) },
      { name: 'missing kid', status: 400, title: 'Malformed request', body: () => resign(vendor, (h) => h.delete(4)) },
      { name: 'bad signature', status: 400, title: 'Bad Signature', body: () => { const s = decodeSign1(statement(vendor)); s.signature[5]! ^= 1; return encodeSign1(s) } },
      { name: 'signature by another key', status: 400, title: 'Bad Signature', body: () => statement({ ...stranger, iss: vendor.iss, kid: vendor.kid }) },
      { name: 'unsupported algorithm (RS256)', status: 400, title: 'Bad Signature Algorithm', body: () => resign(vendor, (h) => h.set(1, -257)) },
      { name: 'algorithm not allowed by policy (ES384)', status: 400, title: 'Bad Signature Algorithm', body: () => statement(es384) },
      { name: 'detached payload', status: 400, title: 'Payload Missing', body: () => { const s = decodeSign1(statement(vendor)); return encodeSign1({ ...s, payload: null }) } },
      { name: 'unknown issuer', status: 403, title: 'Rejected', body: () => statement(stranger) },
      { name: 'unknown kid of a known issuer', status: 403, title: 'Rejected', body: () => statement(vendor, { kid: new Uint8Array([1, 2, 3]) }) },
      { name: 'content type not allowed', status: 403, title: 'Rejected', body: () => statement(vendor, { contentType: 'text/plain' }) },
      { name: 'unusable did:key', status: 403, title: 'Rejected', body: () => statement({ ...vendor, iss: 'did:key:z6MkBAD0' }) },
      { name: 'statement over maxStatementSize', status: 413, title: 'Payload Too Large', body: () => statement(vendor, { payload: new Uint8Array(9000) }) },
      { name: 'body over maxBodyBytes', status: 413, title: 'Payload Too Large', body: () => new Uint8Array(70_001) },
      { name: 'wrong media type', status: 415, title: 'Unsupported Media Type', body: () => statement(vendor), type: 'application/json' },
    ]
    for (const c of cases) {
      it(`${c.name} → ${c.status} ${c.title}`, async () => {
        const before = await http(`${t.url}/checkpoint`)
        const body = c.body()
        const res = await post(t.url, body, c.type)
        assert.equal(res.status, c.status, res.body.toString())
        const p = problem(res)
        assert.equal(p.title, c.title)
        assert.ok(p.detail !== undefined && p.detail.length > 0)
        if (c.status === 413) assert.match(p.detail, /hash envelope/)
        await new Promise((r) => setTimeout(r, 30)) // longer than a batch: anything queued would be integrated
        const after = await http(`${t.url}/checkpoint`)
        assert.equal(after.body.toString(), before.body.toString(), 'the checkpoint did not move')
        if (typeof body !== 'string' && body.length < 70_000) {
          let id: string | undefined
          try { id = entryId(entryBytes(body)) } catch { id = undefined }
          if (id !== undefined) assert.equal((await http(`${t.url}/entries/${id}`)).status, 404)
        }
      })
    }

    it('answers 405 for a wrong method and 404 problem details for an unknown path', async () => {
      const wrong = await http(`${t.url}/entries`)
      assert.equal(wrong.status, 405)
      assert.equal(wrong.headers.allow, 'POST')
      assert.equal(problem(wrong).title, 'Method Not Allowed')
      const missing = await http(`${t.url}/nothing/here`)
      assert.equal(missing.status, 404)
      assert.equal(problem(missing).title, 'Not Found')
    })

    it('routes on the path alone: a query string neither changes the route nor shows in the problem', async () => {
      const checkpoint = await http(`${t.url}/checkpoint?fresh=1`)
      assert.equal(checkpoint.status, 200)
      assert.equal(checkpoint.headers['content-type'], 'text/plain; charset=utf-8')
      const missing = await http(`${t.url}/nothing?x=1`)
      assert.equal(missing.status, 404)
      assert.equal(problem(missing).detail, 'no resource at /nothing')
    })
  })

  describe('keys', () => {
    it('serves the receipt key set and each key by base64url kid', async () => {
      const set = await http(`${t.url}/.well-known/scitt-keys`)
      assert.equal(set.headers['content-type'], 'application/cbor')
      assert.equal(receiptKeys.length, 1)
      const key = receiptKeys[0]!
      assert.equal(key.algorithm, 'ES256')
      const one = await http(`${t.url}/.well-known/scitt-keys/${toBase64Url(key.kid!)}`)
      assert.equal(one.status, 200)
      assert.deepEqual(decodeCoseKey(bytes(one)), key)
      const none = await http(`${t.url}/.well-known/scitt-keys/AAAA`)
      assert.equal(none.status, 404)
      assert.equal(problem(none).title, 'No such key')
    })
  })

  describe('tiles', () => {
    before(async function () {
      this.timeout(30_000)
      // Enough entries for a full level-0 tile and a partial one.
      const need = 300 - await treeSize(t)
      const bodies = Array.from({ length: need }, () => statement(vendor))
      for (let i = 0; i < bodies.length; i += 50) {
        const results = await Promise.all(bodies.slice(i, i + 50).map((b) => post(t.url, b)))
        for (const r of results) assert.equal(r.status, 201)
      }
    })

    it('serves a non-cacheable checkpoint and immutable full tiles that rebuild its root', async () => {
      const res = await http(`${t.url}/checkpoint`)
      assert.equal(res.headers['cache-control'], 'no-store')
      assert.match(String(res.headers['content-type']), /^text\/plain/)
      const cp = parseCheckpoint(parseNote(res.body.toString()).text)
      assert.ok(cp.size >= 300)
      const range = CompactRange.empty()
      const partial = cp.size % 256
      const full = await http(`${t.url}/tile/0/000`)
      assert.equal(full.status, 200)
      assert.equal(full.headers['cache-control'], 'public, max-age=31536000, immutable')
      assert.equal(full.headers['content-type'], 'application/octet-stream')
      const last = await http(`${t.url}/tile/0/001.p/${partial}`)
      assert.equal(last.status, 200)
      for (const h of [...parseHashTile(bytes(full), 256), ...parseHashTile(bytes(last), partial)]) range.append(h)
      assert.equal(range.size, cp.size)
      assert.deepEqual(range.root(), cp.rootHash)
      // Level 1 holds the root of the first full level-0 tile.
      const l1 = await http(`${t.url}/tile/1/000.p/1`)
      const below = CompactRange.empty()
      for (const h of parseHashTile(bytes(full), 256)) below.append(h)
      assert.deepEqual(parseHashTile(bytes(l1), 1)[0], below.root())
    })

    it('serves entry bundles whose leaf hashes are the level-0 tile, gzip when asked', async () => {
      const tile = parseHashTile(bytes(await http(`${t.url}/tile/0/000`)), 256)
      const plain = await http(`${t.url}/tile/entries/000`)
      assert.equal(plain.headers['content-encoding'], undefined)
      const zipped = await http(`${t.url}/tile/entries/000`, { headers: { 'accept-encoding': 'gzip, identity' } })
      assert.equal(zipped.headers['content-encoding'], 'gzip')
      assert.equal(zipped.headers.vary, 'Accept-Encoding')
      assert.deepEqual(gunzipSync(zipped.body), plain.body)
      const entries = parseEntryBundle(bytes(plain), 256)
      entries.forEach((e, i) => assert.deepEqual(leafHash(e), tile[i]))
      assert.equal((await http(`${t.url}/tile/entries/000`, { headers: { 'accept-encoding': 'gzip;q=0' } })).headers['content-encoding'], undefined)
    })

    it('answers 404 for tiles beyond the tree and 400 for non-canonical tile paths', async () => {
      assert.equal((await http(`${t.url}/tile/0/005`)).status, 404)
      assert.equal((await http(`${t.url}/tile/0/001`)).status, 404) // not full yet
      assert.equal((await http(`${t.url}/tile/entries/x000/001`)).status, 400)
      assert.equal((await http(`${t.url}/tile/0/1`)).status, 400)
    })
  })

  describe('requests node:http\'s parser refuses', () => {
    it('get problem details too, and the connection closes', async () => {
      const cases: Array<[string, number, string]> = [
        ['GET /checkpoint HTTP/1.1\r\nHost: 127.0.0.1\r\nno colon here\r\n\r\n', 400, 'Malformed request'],
        ['BREW /checkpoint HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n', 400, 'Malformed request'],
        ['POST /entries HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n', 400, 'Malformed request'],
        [`GET /checkpoint HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`, 431, 'Request Header Fields Too Large'],
      ]
      for (const [request, status, title] of cases) {
        const answer = await rawExchange(t.url, request)
        assert.equal(answer.status, status, request.slice(0, 40))
        assert.equal(problem(answer).title, title)
        assert.match(problem(answer).detail ?? '', /refused by the parser \(HPE_[A-Z_]+\)/)
        assert.equal(answer.headers.connection, 'close')
      }
      assert.equal((await http(`${t.url}/healthz`)).status, 200)
    })
  })

  describe('operations', () => {
    it('answers healthz, readyz and metrics', async () => {
      const health = await http(`${t.url}/healthz`)
      assert.equal(health.status, 200)
      assert.deepEqual(JSON.parse(health.body.toString()), { status: 'ok' })
      const ready = await http(`${t.url}/readyz`)
      assert.equal(ready.status, 200)
      assert.equal(JSON.parse(ready.body.toString()).status, 'ready')
      assert.equal(JSON.parse(ready.body.toString()).sync, false, 'this test node runs with log.sync false, and says so')
      const metrics = await http(`${t.url}/metrics`)
      assert.equal(metrics.status, 200)
      const text = metrics.body.toString()
      assert.match(text, /scitt_registrations_total\{outcome="201"\} \d+/)
      assert.match(text, /scitt_registrations_total\{outcome="403"\}|scitt_registrations_total\{outcome="POLICY"\}/)
      assert.match(text, /scitt_tree_size \d+/)
      assert.match(text, /^scitt_log_sync 0$/m)
      assert.match(text, /^scitt_log_halted 0$/m)
      assert.match(text, /scitt_pending_entries \d+/)
      assert.match(text, /scitt_integration_seconds_bucket/)
      assert.match(text, /scitt_http_request_duration_seconds_bucket\{.*route="entries"/)
    })
  })
})

/** Re-signs a statement after editing its protected header. */
function resign (issuer: ReturnType<typeof makeIssuer>, edit: (h: Map<number | string, unknown>) => void): Uint8Array {
  const s = decodeSign1(statement(issuer))
  const header = new Map(s.protectedHeader)
  edit(header)
  const protectedBytes = encodeCbor(header)
  const signature = issuer.signer.sign(sigStructure(protectedBytes, s.payload!))
  return encodeSign1({ ...s, protectedBytes, protectedHeader: header, signature })
}
