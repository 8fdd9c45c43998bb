/**
 * Bearer tokens of POST /entries (submitters.ts): a token names its submitter (only its SHA-256 is
 * configured), a wrong, missing or malformed header names none, and each submitter has its own bucket.
 */
import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import type { IncomingMessage } from 'node:http'
import { Submitters } from '../src/http/submitters.js'

const sha = (token: string): Uint8Array => new Uint8Array(createHash('sha256').update(token).digest())
const req = (authorization?: string): IncomingMessage => ({ headers: authorization === undefined ? {} : { authorization } }) as unknown as IncomingMessage
const CI = 'ci-token-0123456789abcdef'
const RELEASE = 'release-token-fedcba9876543210'

describe('submitters (bearer tokens)', () => {
  it('a configured token names its submitter; anything else names none', () => {
    const s = new Submitters([{ name: 'ci', tokenHash: sha(CI), rateLimit: null }, { name: 'release', tokenHash: sha(RELEASE), rateLimit: null }])
    assert.ok(s.required)
    assert.equal(s.authenticate(req(`Bearer ${CI}`))?.name, 'ci')
    assert.equal(s.authenticate(req(`bearer ${RELEASE}`))?.name, 'release', 'the scheme is case-insensitive')
    for (const bad of [undefined, '', 'Bearer', `Basic ${CI}`, `Bearer ${CI}x`, `Bearer ${CI.slice(1)}`, `Bearer ${CI} ${CI}`, `Bearer\t${CI}`, `Bearer ${'a'.repeat(5000)}`, `Bearer ${CI}\u00e9`]) {
      assert.equal(s.authenticate(req(bad)), undefined, `refused: ${String(bad).slice(0, 40)}`)
    }
    assert.equal(new Submitters([]).required, false)
  })

  it('each submitter has its own rate', () => {
    let now = 0
    const s = new Submitters([{ name: 'ci', tokenHash: sha(CI), rateLimit: { perSecond: 1, burst: 2 } }, { name: 'release', tokenHash: sha(RELEASE), rateLimit: { perSecond: 1, burst: 1 } }], () => now)
    const ci = s.authenticate(req(`Bearer ${CI}`))!
    assert.equal(ci.take(), 0)
    assert.equal(ci.take(), 0)
    assert.equal(ci.take(), 1, 'over its burst: wait a second')
    const release = s.authenticate(req(`Bearer ${RELEASE}`))!
    assert.equal(release.take(), 0, 'another submitter is not limited by the first')
    assert.equal(release.take(), 1)
    now += 1000
    assert.equal(s.authenticate(req(`Bearer ${CI}`))!.take(), 0, 'the bucket is per submitter, not per request')
  })
})
