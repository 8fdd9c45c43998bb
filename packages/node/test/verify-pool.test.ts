import assert from 'node:assert/strict'
import { Worker } from 'node:worker_threads'
import {
  decodeSign1, encodeSign1, entryBytes, entryId, isScittError, utf8,
} from '@scitt/core'
import { nodeSignatures } from '@scitt/node-crypto'
import { VerifierCache, VerifyPool, type RegistrationConfig } from '@scitt/node'
import { makeIssuer, statement } from './helpers.js'

const vendor = makeIssuer('vendor.example')
const stranger = makeIssuer('stranger.example')

const registration: RegistrationConfig = {
  maxStatementSize: 65_535,
  algorithms: ['Ed25519', 'ES256', 'ES384'],
  contentTypes: undefined,
  requireHashEnvelope: false,
  issuers: [{ iss: vendor.iss, keys: [{ jwk: vendor.jwk }] }],
  didKey: { enabled: false, algorithms: [] },
}

async function settle<T> (p: Promise<T>): Promise<{ ok: true, value: T } | { ok: false, error: unknown }> {
  try {
    return { ok: true, value: await p }
  } catch (error) {
    return { ok: false, error }
  }
}

describe('verify pool (batched worker jobs)', function () {
  this.timeout(30_000)
  let pool: VerifyPool
  before(async () => {
    pool = new VerifyPool({ registration, threads: 2, maxQueue: 1000 })
    await pool.ready()
  })
  after(async () => { await pool.close() })

  it('answers each statement of a batch on its own, in any mix of accepted and rejected', async () => {
    const good = Array.from({ length: 40 }, () => statement(vendor))
    const bad = statement(vendor)
    const tampered = new Uint8Array(bad)
    tampered[tampered.length - 1]! ^= 1
    const bodies = [...good.slice(0, 20), tampered, statement(stranger), new Uint8Array([0xd2, 0x84]), ...good.slice(20)]
    const results = await Promise.all(bodies.map((b) => settle(pool.check(b)))) // one turn: shared out in batches
    assert.equal(pool.inFlight, 0)
    results.forEach((r, i) => {
      const body = bodies[i]!
      if (i === 20) assert.ok(!r.ok && isScittError(r.error, 'BAD_SIGNATURE'))
      else if (i === 21) assert.ok(!r.ok && isScittError(r.error, 'POLICY'))
      else if (i === 22) assert.ok(!r.ok && isScittError(r.error, 'MALFORMED'))
      else {
        assert.ok(r.ok, `statement ${i}`)
        assert.deepEqual(r.value.entry, body)
        assert.equal(r.value.entryId, entryId(body))
        assert.equal(r.value.iss, vendor.iss)
      }
    })
  })

  it('sends the statements of one turn to the workers as one message per worker', async () => {
    const post = Worker.prototype.postMessage
    let messages = 0
    Worker.prototype.postMessage = function (this: Worker, ...args: Parameters<Worker['postMessage']>) {
      messages++
      return post.apply(this, args)
    }
    try {
      const bodies = Array.from({ length: 30 }, () => statement(vendor))
      const checked = await Promise.all(bodies.map((b) => pool.check(b)))
      assert.equal(checked.length, 30)
      assert.equal(messages, 2)
      // A later turn is a new batch.
      await pool.check(statement(vendor))
      assert.equal(messages, 3)
    } finally {
      Worker.prototype.postMessage = post
    }
  })

  it('returns the entry without the unprotected header when the statement had one', async () => {
    const sign1 = decodeSign1(statement(vendor))
    const withReceipts = encodeSign1({ ...sign1, unprotected: new Map([[394, [utf8('not a receipt')]]]) })
    const checked = await pool.check(withReceipts)
    const entry = entryBytes(withReceipts)
    assert.notDeepEqual(entry, withReceipts)
    assert.deepEqual(checked.entry, entry)
    assert.equal(checked.entryId, entryId(entry))
  })

  it('leaves the caller\'s body untouched (the batch is a copy)', async () => {
    const body = statement(vendor)
    const copy = new Uint8Array(body)
    await pool.check(body)
    assert.equal(body.byteLength, copy.byteLength)
    assert.deepEqual(body, copy)
  })

  it('refuses work beyond maxQueue with PUSHBACK and still answers what it took', async () => {
    const small = new VerifyPool({ registration, threads: 1, maxQueue: 3 })
    try {
      await small.ready()
      const results = await Promise.all(Array.from({ length: 5 }, () => settle(small.check(statement(vendor)))))
      assert.deepEqual(results.map((r) => r.ok), [true, true, true, false, false])
      for (const r of results.slice(3)) assert.ok(!r.ok && isScittError(r.error, 'PUSHBACK'))
    } finally {
      await small.close()
    }
  })

  it('fails what is queued or running when it closes, and refuses new work', async () => {
    const closing = new VerifyPool({ registration, threads: 1, maxQueue: 100 })
    await closing.ready()
    const queued = settle(closing.check(statement(vendor)))
    await closing.close()
    const r = await queued
    assert.ok(r.ok || isScittError(r.error, 'INTERNAL'))
    const after = await settle(closing.check(statement(vendor)))
    assert.ok(!after.ok && isScittError(after.error, 'PUSHBACK'))
  })
})

describe('verifier cache', () => {
  it('keeps one verifier per algorithm and key, found by the same bytes or by equal bytes', () => {
    const cache = new VerifierCache()
    const key = makeIssuer('a.example').signer.publicKey
    const first = cache.get('Ed25519', key)
    assert.equal(cache.get('Ed25519', key), first)
    assert.equal(cache.get('Ed25519', new Uint8Array(key)), first)
    const message = utf8('hello')
    const signer = nodeSignatures.signer('Ed25519', nodeSignatures.generateSecretKey('Ed25519'))
    const other = cache.get('Ed25519', signer.publicKey)
    assert.notEqual(other, first)
    assert.ok(other.verify(message, signer.sign(message)))
    assert.ok(!first.verify(message, signer.sign(message)))
  })

  it('forgets the least recently used key beyond its size', () => {
    const cache = new VerifierCache(2)
    const keys = [0, 1, 2].map(() => makeIssuer('k.example').signer.publicKey)
    const v0 = cache.get('Ed25519', keys[0]!)
    cache.get('Ed25519', keys[1]!)
    cache.get('Ed25519', keys[2]!)
    assert.notEqual(cache.get('Ed25519', new Uint8Array(keys[0]!)), v0) // evicted: a new verifier for equal bytes
  })
})
