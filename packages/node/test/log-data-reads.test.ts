/**
 * The libp2p log-data protocol under the read budget (log-data-reads.ts): a peer over its limits is
 * refused with `error PUSHBACK: ...` before anything is read; an admitted answer holds its bytes
 * until it has been sent (`release`).
 */
import assert from 'node:assert/strict'
import type { Log } from '@scitt/log'
import { decodeAnswer } from '../src/federation/answer.js'
import { encodeLogDataRequest, type LogDataHoldings } from '../src/federation/log-data.js'
import { serveLogDataWithin } from '../src/federation/log-data-reads.js'
import { ReadBudget, reservation } from '../src/read-budget.js'

const MIB = 1024 * 1024
const ORIGIN = 'example.com/reads'

describe('log-data under the read budget', () => {
  let reads = 0
  const bundle = new Uint8Array(1000).fill(7)
  const holdings: LogDataHoldings = {
    log: (origin) => origin !== ORIGIN
      ? undefined
      : { entryBundle: async () => { reads++; return bundle }, tile: async () => { reads++; return new Uint8Array(32) } } as unknown as Log,
    descriptor: () => undefined,
  }
  const budget = (): ReadBudget => new ReadBudget({ rateLimit: null, maxInFlight: 2, maxInFlightPerClient: 1, maxBytesInFlight: 40 * MIB, maxBytesPerClient: 40 * MIB, maxConcurrentWork: 1 }, 4)

  it('admits, holds the answer\'s bytes until released, then frees them', async () => {
    const b = budget()
    const answer = await serveLogDataWithin(encodeLogDataRequest(ORIGIN, 'tile/entries/000'), holdings, b, 'peer-a')
    const decoded = decodeAnswer(answer.body)
    assert.ok('ok' in decoded && decoded.ok.length === bundle.length)
    assert.deepEqual(b.inFlight, { total: 1, clients: 1, bytes: answer.body.length, working: 0, waiting: 0 }, 'held until sent')
    answer.release()
    assert.deepEqual(b.inFlight, { total: 0, clients: 0, bytes: 0, working: 0, waiting: 0 })
  })

  it('a peer over its limit gets a PUSHBACK refusal and nothing is read; the node over its total too', async () => {
    const b = budget()
    const held = b.admit('peer-a', reservation('data', false))
    assert.ok(held.admitted)
    reads = 0
    const refused = decodeAnswer((await serveLogDataWithin(encodeLogDataRequest(ORIGIN, 'tile/entries/000'), holdings, b, 'peer-a')).body)
    assert.ok('refused' in refused)
    assert.equal(refused.refused.code, 'PUSHBACK')
    assert.match(refused.refused.reason, /this client.*retry after 4 s/)
    assert.equal(reads, 0, 'refused before reading')
    assert.ok(b.admit('peer-b', 0).admitted)
    const busy = decodeAnswer((await serveLogDataWithin(encodeLogDataRequest(ORIGIN, 'tile/0/000'), holdings, b, 'peer-c')).body)
    assert.ok('refused' in busy && busy.refused.code === 'PUSHBACK' && /the node has too many reads/.test(busy.refused.reason))
    assert.equal(reads, 0)
  })

  it('a request that does not parse is refused by the protocol and holds nothing', async () => {
    const b = budget()
    const answer = await serveLogDataWithin(new TextEncoder().encode('garbage'), holdings, b, 'peer-a')
    const decoded = decodeAnswer(answer.body)
    assert.ok('refused' in decoded && decoded.refused.code === 'MALFORMED')
    answer.release()
    assert.equal(b.inFlight.total, 0)
  })
})
