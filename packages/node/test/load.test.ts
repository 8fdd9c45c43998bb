import assert from 'node:assert/strict'
import { entryBytes, entryId } from '@scitt/core'
import { http, makeIssuer, post, problem, startTestNode, statement, type TestNode } from './helpers.js'

const vendor = makeIssuer('vendor.example')

function withVendor (c: Record<string, any>): void {
  c.registration.issuers = [{ iss: vendor.iss, keys: [{ jwk: vendor.jwk }] }]
}

describe('scitt-node asynchronous registration and load', function () {
  this.timeout(30_000)

  describe('slow integration', () => {
    let t: TestNode
    before(async () => {
      t = await startTestNode((c) => {
        withVendor(c)
        c.log.batchAgeMs = 400
        c.log.maxPending = 2
        c.limits.registrationWaitMs = 20
        c.limits.retryAfterSeconds = 2
      })
    })
    after(async () => { await t.stop() })

    it('answers 303 to /entries/{id}, which answers 202 + Retry-After until the receipt exists, then 200', async () => {
      const body = statement(vendor)
      const id = entryId(entryBytes(body))
      const res = await post(t.url, body)
      assert.equal(res.status, 303)
      assert.equal(res.headers.location, `${t.url}/entries/${id}`)
      assert.equal(res.headers['retry-after'], '2')
      assert.equal(res.body.length, 0)
      const pending = await http(`${t.url}/entries/${id}`)
      assert.equal(pending.status, 202)
      assert.equal(pending.headers['retry-after'], '2')
      let status = pending.status
      for (let i = 0; i < 40 && status === 202; i++) {
        await new Promise((r) => setTimeout(r, 50))
        status = (await http(`${t.url}/entries/${id}`)).status
      }
      assert.equal(status, 200)
    })

    it('answers 503 with Retry-After when too many entries are pending, and changes nothing', async () => {
      const bodies = [statement(vendor), statement(vendor), statement(vendor)]
      const results = await Promise.all(bodies.map((b) => post(t.url, b)))
      const statuses = results.map((r) => r.status).sort()
      assert.deepEqual(statuses, [303, 303, 503])
      const refused = results.find((r) => r.status === 503)!
      assert.equal(refused.headers['retry-after'], '2')
      assert.equal(problem(refused).title, 'Service Unavailable')
      const refusedBody = bodies[results.indexOf(refused)]!
      await new Promise((r) => setTimeout(r, 600))
      assert.equal((await http(`${t.url}/entries/${entryId(entryBytes(refusedBody))}`)).status, 404)
    })

    it('drains pending registrations when it stops and publishes their checkpoint', async () => {
      const body = statement(vendor)
      const size = t.node.log.latestCheckpoint()!.size
      const published: number[] = []
      t.node.log.onCheckpoint((cp) => published.push(cp.size))
      assert.equal((await post(t.url, body)).status, 303)
      await t.node.stop()
      assert.deepEqual(published, [size + 1])
      const ready = await http(`${t.url}/readyz`).catch((err: NodeJS.ErrnoException) => err.code)
      assert.equal(ready, 'ECONNREFUSED')
    })
  })

  describe('rate limiting per client address', () => {
    let t: TestNode
    before(async () => {
      t = await startTestNode((c) => {
        withVendor(c)
        c.limits.rateLimit = { perSecond: 1, burst: 3, maxClients: 10 }
      })
    })
    after(async () => { await t.stop() })

    it('answers 429 with Retry-After beyond the burst', async () => {
      const statuses: number[] = []
      let limited
      for (let i = 0; i < 5; i++) {
        const res = await post(t.url, statement(vendor))
        statuses.push(res.status)
        if (res.status === 429) limited = res
      }
      assert.deepEqual(statuses, [201, 201, 201, 429, 429])
      assert.ok(limited !== undefined)
      assert.equal(problem(limited).title, 'Too Many Requests')
      assert.equal(limited.headers['retry-after'], '1')
      // Reads are not rate limited.
      assert.equal((await http(`${t.url}/checkpoint`)).status, 200)
    })
  })
})
