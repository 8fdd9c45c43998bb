/**
 * Admission of add-checkpoint requests (witness-limits.ts), as the HTTP route and the libp2p protocol
 * use it: a token bucket per client (429 with the seconds until a token), at most
 * `maxInFlightPerClient` requests of one client (429) and `maxInFlight` in all (503) at once; slots
 * are released exactly once and a client's count is gone with its last request.
 */
import assert from 'node:assert/strict'
import { WitnessLimits } from '../src/witness/witness-limits.js'

describe('witness: add-checkpoint limits', () => {
  it('rate per client: the burst, then 429 with Retry-After until a token is due; clients are independent', () => {
    let now = 0
    const limits = new WitnessLimits({ rateLimit: { perSecond: 1, burst: 3, maxClients: 10 }, maxInFlight: 10, maxInFlightPerClient: 10 }, 7, () => now)
    for (let i = 0; i < 3; i++) {
      const a = limits.admit('peer-a')
      assert.ok(a.admitted)
      a.release()
    }
    const refused = limits.admit('peer-a')
    assert.ok(!refused.admitted)
    assert.equal(refused.answer.status, 429)
    assert.equal(refused.answer.code, 'PUSHBACK')
    assert.equal(refused.retryAfter, 1)
    assert.ok(limits.admit('peer-b').admitted, 'another client has its own bucket')
    now += 1000
    assert.ok(limits.admit('peer-a').admitted, 'a token is due after a second')
  })

  it('in flight: 429 over the per-client bound, 503 over the total, free again on release (once)', () => {
    const limits = new WitnessLimits({ rateLimit: null, maxInFlight: 2, maxInFlightPerClient: 1 }, 7)
    const a = limits.admit('a')
    assert.ok(a.admitted)
    const again = limits.admit('a')
    assert.ok(!again.admitted && again.answer.status === 429)
    const b = limits.admit('b')
    assert.ok(b.admitted)
    const c = limits.admit('c')
    assert.ok(!c.admitted && c.answer.status === 503)
    assert.equal(c.retryAfter, 7, 'a 503 carries limits.retryAfterSeconds')
    a.release()
    a.release()
    assert.deepEqual(limits.inFlight, { total: 1, clients: 1 })
    const c2 = limits.admit('c')
    assert.ok(c2.admitted)
    assert.ok(!limits.admit('d').admitted, 'a double release does not free a second slot')
    b.release()
    c2.release()
    assert.deepEqual(limits.inFlight, { total: 0, clients: 0 })
  })

  it('run: a refusal answers without running the work; the slot is released when the work throws', async () => {
    const limits = new WitnessLimits({ rateLimit: null, maxInFlight: 1, maxInFlightPerClient: 1 }, 1)
    let ran = 0
    let open: () => void = () => {}
    const first = limits.run('p1', async () => {
      ran++
      await new Promise<void>((resolve) => { open = resolve })
      return { status: 200, contentType: 'text/plain', body: 'ok\n' }
    })
    const busy = await limits.run('p2', async () => { ran++; throw new Error('not run') })
    assert.equal(busy.status, 503)
    open()
    assert.equal((await first).status, 200)
    await assert.rejects(limits.run('p2', async () => { ran++; throw new Error('boom') }), /boom/)
    assert.equal(ran, 2)
    assert.deepEqual(limits.inFlight, { total: 0, clients: 0 })
  })
})
