import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { gzipSync } from 'node:zlib'
import {
  MEDIA_TYPE, decodeSign1, encodeCoseKeySet, encodeProblemDetails, entryBytes, entryId, portableSignatures, utf8,
} from '@scitt/core'
import {
  fetchCheckpoint, fetchNodeKeys, fetchProof, fetchReceipt, fetchTile, fetchTransparentStatement, register, retryAfterMs, secretKeyJwk, signStatement,
  signerFromJwk,
} from '@scitt/client'
import { stubServer, type StubServer } from './helpers.js'

describe('HTTP client', () => {
  const issuer = signerFromJwk(secretKeyJwk('Ed25519', portableSignatures.generateSecretKey('Ed25519')))
  const statement = signStatement({ signer: issuer.signer, kid: issuer.key.kid, iss: 'issuer.example', sub: 's', contentType: 'text/plain', payload: utf8('x') })
  const id = entryId(entryBytes(decodeSign1(statement)))
  const receipt = utf8('receipt bytes')
  const servers: StubServer[] = []
  afterEach(async () => {
    await Promise.all(servers.splice(0).map(async (s) => s.close()))
  })

  it('registers: 201 with the receipt', async () => {
    const s = await stubServer((req, res, body) => {
      assert.equal(req.headers['content-type'], MEDIA_TYPE.cose)
      assert.deepEqual(body, statement)
      res.statusCode = 201
      res.setHeader('location', `/entries/${id}`)
      res.end(receipt)
    })
    servers.push(s)
    const r = await register(s.url, statement)
    assert.equal(r.entryId, id)
    assert.deepEqual(r.receipt, receipt)
    assert.equal(r.location, `${s.url}entries/${id}`)
  })

  it('registers: 303, then polls 202 and 302 with Retry-After until 200', async () => {
    let polls = 0
    const s = await stubServer((req, res) => {
      if (req.method === 'POST') {
        res.statusCode = 303
        res.setHeader('location', '/entries/op1')
        res.end()
      } else if (++polls === 1) {
        res.statusCode = 202
        res.setHeader('retry-after', '0')
        res.end()
      } else if (polls === 2) {
        res.statusCode = 302
        res.setHeader('location', `/entries/${id}`)
        res.end()
      } else {
        res.statusCode = 200
        res.end(receipt)
      }
    })
    servers.push(s)
    const pending = await register(s.url, statement)
    assert.equal(pending.receipt, undefined)
    assert.equal(pending.location, `${s.url}entries/op1`)
    const r = await register(s.url, statement, { wait: true, minPollMs: 10 })
    assert.deepEqual(r.receipt, receipt)
    assert.deepEqual(s.requests.slice(1), ['POST /entries', 'GET /entries/op1', 'GET /entries/op1', `GET /entries/${id}`])
  })

  it('gives up polling after waitMs with PUSHBACK', async () => {
    const s = await stubServer((req, res) => {
      res.statusCode = req.method === 'POST' ? 303 : 202
      if (req.method === 'POST') res.setHeader('location', '/entries/op')
      res.setHeader('retry-after', '1')
      res.end()
    })
    servers.push(s)
    await assert.rejects(register(s.url, statement, { wait: true, waitMs: 300, maxPollMs: 100 }), { code: 'PUSHBACK' })
  })

  it('retries 429 and 503 after Retry-After, boundedly', async () => {
    let n = 0
    const s = await stubServer((_req, res) => {
      if (++n <= 2) {
        res.statusCode = n === 2 ? 503 : 429
        res.setHeader('retry-after', '0')
        res.end()
        return
      }
      res.statusCode = 201
      res.end(receipt)
    })
    servers.push(s)
    assert.deepEqual((await register(s.url, statement)).receipt, receipt)
    n = -100
    await assert.rejects(register(s.url, statement, { retries: 2 }), (err: Error & { code?: string, details?: Record<string, unknown> }) => {
      assert.equal(err.code, 'PUSHBACK')
      assert.equal(err.details?.status, 429)
      return true
    })
  })

  it('turns problem details into a ScittError with the title and detail', async () => {
    const s = await stubServer((_req, res) => {
      res.statusCode = 400
      res.setHeader('content-type', MEDIA_TYPE.problemDetails)
      res.end(encodeProblemDetails({ title: 'Rejected', detail: 'issuer is not allowed' }))
    })
    servers.push(s)
    await assert.rejects(register(s.url, statement), (err: Error & { code?: string, details?: Record<string, unknown> }) => {
      assert.equal(err.code, 'MALFORMED')
      assert.equal(err.details?.title, 'Rejected')
      assert.match(err.message, /400 \(Rejected: issuer is not allowed\)/)
      return true
    })
  })

  it('times out a silent node and names it', async () => {
    const s = await stubServer(() => {})
    servers.push(s)
    await assert.rejects(register(s.url, statement, { timeoutMs: 100, retries: 1 }), (err: Error & { code?: string }) => {
      assert.equal(err.code, 'PUSHBACK')
      assert.match(err.message, /no answer within 100 ms/)
      return true
    })
  })

  it('refuses bodies over the size limit', async () => {
    const s = await stubServer((_req, res) => { res.end(new Uint8Array(5000)) })
    servers.push(s)
    await assert.rejects(fetchCheckpoint({ nodeUrl: s.url }, { maxBytes: 1000 }), { code: 'TOO_LARGE' })
  })

  it('limits the decoded body, not the gzip-encoded Content-Length: a full hash tile is 8 KiB however it is sent', async () => {
    const tile = new Uint8Array(randomBytes(8192)) // hashes do not compress: gzip makes them longer
    const bomb = new Uint8Array(64 * 1024) // zeros: a short gzip body that decodes past the limit
    const s = await stubServer((req, res) => {
      const body = gzipSync(req.url === '/tile/0/000' ? tile : bomb)
      res.setHeader('content-encoding', 'gzip')
      res.setHeader('content-length', String(body.length))
      res.end(body)
    })
    servers.push(s)
    assert.deepEqual(await fetchTile({ nodeUrl: s.url }, { level: 0, index: 0, width: 256 }), tile)
    await assert.rejects(fetchTile({ nodeUrl: s.url }, { level: 0, index: 1, width: 256 }), { code: 'TOO_LARGE' })
  })

  it('fetches receipts, statements, proofs, keys and mirrored checkpoints from their paths', async () => {
    const keys = [issuer.key]
    const s = await stubServer((req, res) => {
      const routes: Record<string, Uint8Array | string> = {
        [`/entries/${id}`]: receipt,
        [`/entries/${id}/statement`]: statement,
        [`/entries/${id}/proof`]: 'proof text',
        '/.well-known/scitt-keys': encodeCoseKeySet(keys),
        '/prefix/checkpoint': 'cp',
      }
      const body = routes[req.url ?? '']
      res.statusCode = body === undefined ? 404 : 200
      res.end(body ?? '')
    })
    servers.push(s)
    assert.deepEqual(await fetchReceipt(s.url, id), receipt)
    assert.deepEqual(await fetchTransparentStatement(s.url, id), statement)
    assert.equal(await fetchProof(s.url, id), 'proof text')
    assert.deepEqual((await fetchNodeKeys(s.url))[0]?.publicKey, issuer.key.publicKey)
    assert.equal(await fetchCheckpoint({ nodeUrl: s.url, prefix: 'prefix/' }), 'cp')
    await assert.rejects(fetchReceipt(s.url, 'a'.repeat(64)), { code: 'NOT_FOUND' })
    await assert.rejects(fetchReceipt(s.url, 'not-hex'), { code: 'MALFORMED' })
  })

  it('reads Retry-After as seconds or a date', () => {
    assert.equal(retryAfterMs(new Headers({ 'retry-after': '3' })), 3000)
    assert.equal(retryAfterMs(new Headers({ 'retry-after': new Date(10_000).toUTCString() }), 4000), 6000)
    assert.equal(retryAfterMs(new Headers({ 'retry-after': 'soon' })), undefined)
    assert.equal(retryAfterMs(new Headers()), undefined)
  })
})
