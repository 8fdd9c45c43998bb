/**
 * The read budget (read-budget.ts, admission.ts): per client and in total, reads in flight and the
 * bytes they hold are bounded (429 for the client's limits, 503 for the node's), a rate per client,
 * reservations become the actual size, and at most `maxConcurrentWork` reads run at once.
 */
import assert from 'node:assert/strict'
import type { ReadLimitsConfig } from '../src/config.js'
import { MAX_READ_RESERVATION, ReadBudget, reservation } from '../src/read-budget.js'

const MIB = 1024 * 1024
const base: ReadLimitsConfig = { rateLimit: null, maxInFlight: 100, maxInFlightPerClient: 100, maxBytesInFlight: 100 * MIB, maxBytesPerClient: 100 * MIB, maxConcurrentWork: 2 }

function refused (a: ReturnType<ReadBudget['admit']>): { status: number, reason: string, retryAfter: number } {
  assert.ok(!a.admitted, 'expected a refusal')
  return a
}

describe('read budget', () => {
  it('reservations: a maximal answer for bundles and bundle lists, twice that gzipped, 8 KiB for a hash tile', () => {
    assert.equal(reservation('tile', false), 8192)
    assert.ok(reservation('data', false) > 16 * MIB)
    assert.equal(reservation('data', true), 2 * reservation('data', false))
    assert.equal(reservation('data', true), MAX_READ_RESERVATION)
    assert.equal(reservation('held', true), 0)
  })

  it('bytes per client: 429 once a client holds its bytes; the reservation becomes the actual size', () => {
    const budget = new ReadBudget({ ...base, maxBytesPerClient: 40 * MIB }, 3)
    const a = budget.admit('a', reservation('data', false))
    assert.ok(a.admitted)
    const b = budget.admit('a', reservation('data', false))
    assert.ok(b.admitted)
    const c = refused(budget.admit('a', reservation('data', false)))
    assert.equal(c.status, 429)
    assert.equal(c.retryAfter, 3)
    assert.match(c.reason, /bytes/)
    assert.ok(budget.admit('b', reservation('data', false)).admitted, 'another client has its own bytes')
    a.ticket.hold(1000) // the bundle read was small
    assert.ok(budget.admit('a', reservation('data', false)).admitted, 'freed by the actual size')
    assert.equal(budget.inFlight.total, 4)
  })

  it('bytes in total: 503; free again on release, once', () => {
    const budget = new ReadBudget({ ...base, maxBytesInFlight: 40 * MIB, maxBytesPerClient: 40 * MIB }, 5)
    const a = budget.admit('a', 17 * MIB)
    const b = budget.admit('b', 17 * MIB)
    assert.ok(a.admitted && b.admitted)
    const c = refused(budget.admit('c', 17 * MIB))
    assert.equal(c.status, 503)
    assert.equal(c.retryAfter, 5)
    a.ticket.release()
    a.ticket.release()
    a.ticket.hold(30 * MIB) // no effect once released
    const c2 = budget.admit('c', 17 * MIB)
    assert.ok(c2.admitted)
    assert.equal(refused(budget.admit('d', 17 * MIB)).status, 503, 'a double release frees nothing more')
    b.ticket.release()
    c2.ticket.release()
    assert.deepEqual(budget.inFlight, { total: 0, clients: 0, bytes: 0, working: 0, waiting: 0 })
  })

  it('requests: 429 over the per-client count, 503 over the total', () => {
    const budget = new ReadBudget({ ...base, maxInFlight: 3, maxInFlightPerClient: 2 }, 1)
    assert.ok(budget.admit('a', 0).admitted)
    assert.ok(budget.admit('a', 0).admitted)
    assert.equal(refused(budget.admit('a', 0)).status, 429)
    assert.ok(budget.admit('b', 0).admitted)
    assert.equal(refused(budget.admit('c', 0)).status, 503)
    assert.equal(refused(budget.admit('a', 0)).status, 503, 'when the node is full it is busy for everyone')
  })

  it('rate per client: the burst, then 429 with the seconds until a token; a refusal takes no token', () => {
    let now = 0
    const budget = new ReadBudget({ ...base, rateLimit: { perSecond: 2, burst: 2, maxClients: 10 } }, 9, () => now)
    for (let i = 0; i < 2; i++) {
      const a = budget.admit('a', 0)
      assert.ok(a.admitted)
      a.ticket.release()
    }
    const r = refused(budget.admit('a', 0))
    assert.equal(r.status, 429)
    assert.equal(r.retryAfter, 1)
    assert.match(r.reason, /rate/)
    now += 500
    assert.ok(budget.admit('a', 0).admitted, 'a token is due after half a second at 2/s')
  })

  it('work: at most maxConcurrentWork at once, the rest in order; a failure frees its slot', async () => {
    const budget = new ReadBudget({ ...base, maxConcurrentWork: 2 }, 1)
    let running = 0
    let peak = 0
    const order: number[] = []
    const gates: Array<() => void> = []
    const job = (i: number, fail = false) => budget.work(async () => {
      running++
      peak = Math.max(peak, running)
      await new Promise<void>((resolve) => gates.push(resolve))
      running--
      order.push(i)
      if (fail) throw new Error(`job ${i}`)
      return i
    })
    const jobs = [job(0, true), job(1), job(2), job(3)]
    jobs[0]!.catch(() => {}) // settled below
    await new Promise((resolve) => setImmediate(resolve))
    assert.equal(budget.inFlight.working, 2)
    assert.equal(budget.inFlight.waiting, 2)
    for (let i = 0; i < 4; i++) {
      while (gates.length === 0) await new Promise((resolve) => setImmediate(resolve))
      gates.shift()!()
      await new Promise((resolve) => setImmediate(resolve))
    }
    const results = await Promise.allSettled(jobs)
    assert.equal(results[0]!.status, 'rejected')
    assert.deepEqual(results.slice(1).map((r) => r.status === 'fulfilled' ? r.value : undefined), [1, 2, 3])
    assert.equal(peak, 2)
    assert.deepEqual(order, [0, 1, 2, 3])
    assert.deepEqual(budget.inFlight, { total: 0, clients: 0, bytes: 0, working: 0, waiting: 0 })
  })
})
