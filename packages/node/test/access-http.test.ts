/**
 * Access and read limits against a real node on 127.0.0.1: reads admitted per client address
 * (`limits.read`: 429 over a client's rate, 503 beyond the node's reads in flight, both with
 * Retry-After) with the client taken from X-Forwarded-For only when the connection comes from a
 * trusted proxy; bearer tokens per submitter on POST /entries (401 without one); /metrics only on
 * `http.metricsListen` when that is set.
 */
import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import { request } from 'node:http'
import { pool as tasks, makeIssuer, post, problem, startTestNode, statement, type RawResponse, type TestNode } from './helpers.js'

const vendor = makeIssuer('https://vendor.access.example')

/** One request on its own connection, optionally from another loopback address. */
function get (url: string, options: { headers?: Record<string, string>, localAddress?: string, method?: string, body?: Uint8Array } = {}): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: options.method ?? 'GET', headers: options.headers ?? {}, agent: false, ...(options.localAddress === undefined ? {} : { localAddress: options.localAddress }) }, (res) => {
      const chunks: Buffer[] = []
      res.on('data', (c: Buffer) => chunks.push(c))
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks) }))
      res.on('error', reject)
    })
    req.setTimeout(10_000, () => req.destroy(new Error('timeout')))
    req.on('error', reject)
    req.end(options.body)
  })
}

function tally (statuses: number[]): Record<number, number> {
  const out: Record<number, number> = {}
  for (const s of statuses) out[s] = (out[s] ?? 0) + 1
  return out
}

describe('access and read limits over HTTP', function () {
  this.timeout(60_000)

  describe('reads', () => {
    let t: TestNode
    before(async () => {
      t = await startTestNode((c) => {
        c.registration.issuers = [{ iss: vendor.iss, keys: [{ jwk: vendor.jwk }] }]
        c.http.trustedProxies = ['127.0.0.1']
        c.limits.read = { rateLimit: { perSecond: 1, burst: 3 }, maxInFlight: 2, maxInFlightPerClient: 2, maxConcurrentWork: 1 }
      })
      // ~1.2 MB of entries in the first bundle, so that a read and its gzip take a while.
      for (let i = 0; i < 24; i++) assert.equal((await post(t.url, statement(vendor, { payload: new Uint8Array(50_000).fill(i) }))).status, 201)
    })
    after(async () => { await t.stop() })

    it('a client over its read rate gets 429 with Retry-After; another client (by X-Forwarded-For from a trusted proxy) does not', async () => {
      const as = (client: string): Record<string, string> => ({ 'x-forwarded-for': client })
      for (let i = 0; i < 3; i++) assert.equal((await get(`${t.url}/tile/entries/000.p/1`, { headers: as('198.51.100.1') })).status, 200)
      const limited = await get(`${t.url}/tile/entries/000.p/1`, { headers: as('198.51.100.1') })
      assert.equal(limited.status, 429)
      assert.equal(limited.headers['retry-after'], '1')
      assert.equal(problem(limited).title, 'Too Many Requests')
      assert.equal((await get(`${t.url}/checkpoint`, { headers: as('198.51.100.2') })).status, 200, 'another client address has its own bucket')
      assert.equal((await get(`${t.url}/checkpoint`, { headers: as('10.0.0.1, 198.51.100.2') })).status, 200, 'the rightmost untrusted address counts, not what the client wrote first')
      // An IPv6 client is counted per /64: another address in the same /64 shares the bucket.
      for (let i = 0; i < 3; i++) assert.equal((await get(`${t.url}/checkpoint`, { headers: as(`2001:db8:1:2::${i + 1}`) })).status, 200)
      assert.equal((await get(`${t.url}/checkpoint`, { headers: as('2001:db8:1:2:ffff::9') })).status, 429, 'the same /64')
      assert.equal((await get(`${t.url}/checkpoint`, { headers: as('2001:db8:1:3::1') })).status, 200, 'another /64')
      // 127.0.0.2 is not a trusted proxy: its X-Forwarded-For is ignored and it is limited by its own address.
      const untrusted = []
      for (let i = 0; i < 4; i++) untrusted.push((await get(`${t.url}/checkpoint`, { localAddress: '127.0.0.2', headers: as(`203.0.113.${i}`) })).status)
      assert.deepEqual(untrusted, [200, 200, 200, 429])
    })

    it('a flood of concurrent entry-bundle reads: 503 beyond maxInFlight, with Retry-After; registration still answers', async () => {
      const statuses: number[] = []
      const retryAfter = new Set<string>()
      let flooding = true
      const registering = (async () => {
        const out: number[] = []
        for (let i = 0; i < 20 && flooding; i++) out.push((await post(t.url, statement(vendor))).status)
        return out
      })()
      // 48 clients (each its own X-Forwarded-For, so no rate limit is hit), all at once.
      const results = await tasks(48, Array.from({ length: 48 }, (_, i) => async () =>
        await get(`${t.url}/tile/entries/000.p/24`, { headers: { 'x-forwarded-for': `192.0.2.${i + 1}`, 'accept-encoding': 'gzip' } })))
      flooding = false
      const registrations = await registering
      for (const res of results) {
        statuses.push(res.status)
        if (res.status === 503) retryAfter.add(String(res.headers['retry-after']))
      }
      const counts = tally(statuses)
      assert.ok((counts[503] ?? 0) > 0 && (counts[200] ?? 0) > 0, `statuses ${JSON.stringify(counts)}`)
      assert.deepEqual(Object.keys(counts).sort(), ['200', '503'], `only 200 and 503: ${JSON.stringify(counts)}`)
      assert.deepEqual([...retryAfter], ['1'])
      assert.ok(registrations.length > 0 && registrations.every((s) => s === 201), `registrations ${JSON.stringify(registrations)}`)
    })
  })

  describe('bearer tokens and the metrics listener', () => {
    let t: TestNode
    const ci = 'ci-token-0123456789abcdef'
    const release = 'release-token-fedcba9876543210'
    before(async () => {
      t = await startTestNode((c) => {
        c.registration.issuers = [{ iss: vendor.iss, keys: [{ jwk: vendor.jwk }] }]
        c.http.metricsListen = '127.0.0.1:0'
        c.http.submitters = [
          { name: 'ci', tokenSha256: createHash('sha256').update(ci).digest('hex'), rateLimit: { perSecond: 1, burst: 2 } },
          { name: 'release', tokenSha256: createHash('sha256').update(release).digest('hex'), rateLimit: null },
        ]
      })
    })
    after(async () => { await t.stop() })

    const register = async (authorization?: string): Promise<RawResponse> => await get(`${t.url}/entries`, {
      method: 'POST', body: statement(vendor), headers: { 'content-type': 'application/cose', ...(authorization === undefined ? {} : { authorization }) },
    })

    it('POST /entries without a valid bearer token is 401 with problem details and WWW-Authenticate', async () => {
      for (const auth of [undefined, `Bearer ${ci}x`, `Basic ${ci}`, 'Bearer ']) {
        const res = await register(auth)
        assert.equal(res.status, 401, String(auth))
        assert.equal(res.headers['www-authenticate'], 'Bearer realm="scitt"')
        assert.equal(problem(res).title, 'Unauthorized')
      }
      assert.equal((await get(`${t.url}/checkpoint`)).status, 200, 'reads need no token')
    })

    it('a valid token registers; each submitter has its own rate', async () => {
      assert.equal((await register(`Bearer ${ci}`)).status, 201)
      assert.equal((await register(`Bearer ${ci}`)).status, 201)
      const limited = await register(`Bearer ${ci}`)
      assert.equal(limited.status, 429)
      assert.match(problem(limited).detail ?? '', /submitter/)
      assert.equal(limited.headers['retry-after'], '1')
      for (let i = 0; i < 4; i++) assert.equal((await register(`Bearer ${release}`)).status, 201, 'the other submitter is not limited')
    })

    it('serves /metrics only on http.metricsListen', async () => {
      const metricsUrl = t.node.metricsUrl
      assert.ok(metricsUrl !== undefined && metricsUrl !== t.url)
      const res = await get(`${metricsUrl}/metrics`)
      assert.equal(res.status, 200)
      assert.match(res.body.toString(), /scitt_registrations_total\{outcome="401"\}/)
      assert.equal((await get(`${t.url}/metrics`)).status, 404, 'not on the public listener')
      assert.equal((await get(`${metricsUrl}/healthz`)).status, 404, 'the metrics listener serves /metrics only')
      assert.equal((await get(`${metricsUrl}/entries`, { method: 'POST', body: statement(vendor), headers: { 'content-type': 'application/cose' } })).status, 404)
    })
  })
})
