/**
 * The access and read-limit parts of the config (config.ts): `limits.read`, `limits.ipv6Prefix`,
 * `http.trustedProxies`, `http.metricsListen` and `http.submitters`, strictly (a wrong or unknown
 * field names itself), with the documented defaults.
 */
import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { ConfigError, parseConfig } from '@scitt/node'

const base = { origin: 'example.com/log' }
const MIB = 1024 * 1024
const HASH = 'a'.repeat(64)

describe('config: access and read limits', () => {
  const bad: Array<[string, Record<string, unknown>, string]> = [
    ['read: unknown field', { ...base, limits: { read: { maxInflight: 3 } } }, 'limits.read.maxInflight'],
    ['read: bytes below one gzipped maximal answer', { ...base, limits: { read: { maxBytesInFlight: 16 * MIB } } }, 'limits.read.maxBytesInFlight'],
    ['read: per-client bytes above the total', { ...base, limits: { read: { maxBytesInFlight: 40 * MIB, maxBytesPerClient: 50 * MIB } } }, 'limits.read.maxBytesPerClient'],
    ['read: work 0', { ...base, limits: { read: { maxConcurrentWork: 0 } } }, 'limits.read.maxConcurrentWork'],
    ['read: rate limit member', { ...base, limits: { read: { rateLimit: { burst: 0 } } } }, 'limits.read.rateLimit.burst'],
    ['ipv6 prefix 0', { ...base, limits: { ipv6Prefix: 0 } }, 'limits.ipv6Prefix'],
    ['ipv6 prefix 129', { ...base, limits: { ipv6Prefix: 129 } }, 'limits.ipv6Prefix'],
    ['trusted proxy not an address', { ...base, http: { trustedProxies: ['proxy.example'] } }, 'http.trustedProxies[0]'],
    ['trusted proxy prefix too long', { ...base, http: { trustedProxies: ['10.0.0.0/8', '10.0.0.0/33'] } }, 'http.trustedProxies[1]'],
    ['trusted proxy prefix not canonical', { ...base, http: { trustedProxies: ['fd00::/08'] } }, 'http.trustedProxies[0]'],
    ['trusted proxies not a list', { ...base, http: { trustedProxies: '10.0.0.1' } }, 'http.trustedProxies'],
    ['metrics listen without a port', { ...base, http: { metricsListen: '127.0.0.1' } }, 'http.metricsListen'],
    ['metrics listen port out of range', { ...base, http: { metricsListen: '127.0.0.1:70000' } }, 'http.metricsListen'],
    ['metrics listen bare IPv6', { ...base, http: { metricsListen: '::1:9464' } }, 'http.metricsListen'],
    ['submitter without a token', { ...base, http: { submitters: [{ name: 'ci' }] } }, 'http.submitters[0]'],
    ['submitter with both token forms', { ...base, http: { submitters: [{ name: 'ci', tokenSha256: HASH, tokenFile: 'x' }] } }, 'http.submitters[0]'],
    ['submitter hash not hex', { ...base, http: { submitters: [{ name: 'ci', tokenSha256: 'A'.repeat(64) }] } }, 'http.submitters[0].tokenSha256'],
    ['submitter token file missing', { ...base, http: { submitters: [{ name: 'ci', tokenFile: 'no-such-token' }] } }, 'http.submitters[0].tokenFile'],
    ['submitter unknown field', { ...base, http: { submitters: [{ name: 'ci', tokenSha256: HASH, token: 'x' }] } }, 'http.submitters[0].token'],
    ['submitter rate', { ...base, http: { submitters: [{ name: 'ci', tokenSha256: HASH, rateLimit: { perSecond: 1, maxClients: 3 } }] } }, 'http.submitters[0].rateLimit.maxClients'],
    ['submitter names twice', { ...base, http: { submitters: [{ name: 'ci', tokenSha256: HASH }, { name: 'ci', tokenSha256: 'b'.repeat(64) }] } }, 'http.submitters'],
    ['submitters sharing a token', { ...base, http: { submitters: [{ name: 'a', tokenSha256: HASH }, { name: 'b', tokenSha256: HASH }] } }, 'http.submitters'],
  ]
  for (const [name, value, field] of bad) {
    it(`names the field: ${name}`, () => {
      assert.throws(() => parseConfig(value, '/tmp'), (err: unknown) => err instanceof ConfigError && err.field === field)
    })
  }

  it('defaults: read limits, /64, no proxies, /metrics on the public listener, open registration', () => {
    const config = parseConfig(base, '/tmp')
    assert.deepEqual(config.limits.read, {
      rateLimit: { perSecond: 100, burst: 200, maxClients: 10_000 }, maxInFlight: 64, maxInFlightPerClient: 8, maxBytesInFlight: 160 * MIB, maxBytesPerClient: 80 * MIB, maxConcurrentWork: 2,
    })
    assert.equal(config.limits.ipv6Prefix, 64)
    assert.deepEqual(config.http.trustedProxies, [])
    assert.equal(config.http.metricsListen, undefined)
    assert.deepEqual(config.http.submitters, [])
    assert.equal(parseConfig({ ...base, limits: { read: { rateLimit: null } } }, '/tmp').limits.read.rateLimit, null)
  })

  it('parses proxies, the metrics address and submitters (a token file keeps only its hash)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'scitt-config-access-'))
    try {
      writeFileSync(join(dir, 'ci.token'), 'ci-token-0123456789abcdef\n')
      const config = parseConfig({
        ...base,
        http: {
          trustedProxies: ['10.0.0.0/8', '192.0.2.7', 'fd00::/8'],
          metricsListen: '[::1]:9464',
          submitters: [{ name: 'ci', tokenFile: 'ci.token', rateLimit: { perSecond: 5 } }, { name: 'release', tokenSha256: HASH, rateLimit: null }],
        },
        limits: { ipv6Prefix: 56 },
      }, dir, readFileSync)
      assert.deepEqual(config.http.trustedProxies, ['10.0.0.0/8', '192.0.2.7', 'fd00::/8'])
      assert.deepEqual(config.http.metricsListen, { host: '::1', port: 9464 })
      assert.deepEqual(parseConfig({ ...base, http: { metricsListen: 'localhost:0' } }, dir, readFileSync).http.metricsListen, { host: 'localhost', port: 0 })
      assert.equal(config.limits.ipv6Prefix, 56)
      const [ci, release] = config.http.submitters
      assert.equal(ci!.name, 'ci')
      assert.deepEqual(Buffer.from(ci!.tokenHash), createHash('sha256').update('ci-token-0123456789abcdef').digest())
      assert.deepEqual(ci!.rateLimit, { perSecond: 5, burst: 100 })
      assert.equal(Buffer.from(release!.tokenHash).toString('hex'), HASH)
      assert.equal(release!.rateLimit, null)
      assert.ok(!JSON.stringify(config).includes('ci-token-0123456789abcdef'), 'the token itself is not kept')
      writeFileSync(join(dir, 'short.token'), 'short\n')
      assert.throws(() => parseConfig({ ...base, http: { submitters: [{ name: 'x', tokenFile: 'short.token' }] } }, dir, readFileSync), (err: unknown) => err instanceof ConfigError && err.field === 'http.submitters[0].tokenFile')
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })
})
