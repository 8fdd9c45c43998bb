/**
 * ReceiptPool (@scitt/client/node): receipts checked across worker threads give exactly the results of
 * `checkReceipt` in this thread, in order, across several batches and workers — verified receipts,
 * a bad signature, a wrong leaf, an unknown key, garbage — and a closed pool refuses work.
 */
import assert from 'node:assert/strict'
import { leafHash, utf8 } from '@scitt/core'
import { nodeSignatures } from '@scitt/node-crypto'
import { ReceiptPool, TrustedKeys, checkReceipt, type ReceiptItem } from '../src/node.js'
import { TestLog } from './helpers.js'

describe('ReceiptPool: receipts verified on worker threads', function () {
  this.timeout(30_000)
  let pool: ReceiptPool | undefined

  afterEach(async () => {
    await pool?.close()
    pool = undefined
  })

  it('gives the results of checkReceipt, in order, over several batches and two workers', async () => {
    const log = new TestLog('example.com/pool')
    for (let i = 0; i < 50; i++) log.append(utf8(`entry ${i}`))
    const stranger = new TestLog('example.com/stranger')
    stranger.append(utf8('entry 0'))
    const items: ReceiptItem[] = []
    for (let i = 0; i < 40; i++) items.push({ receipt: await log.receipt(i), leafHash: log.leaves[i]! })
    const forged = await log.receipt(3)
    forged[forged.length - 1]! ^= 1
    items.push(
      { receipt: forged, leafHash: log.leaves[3]! },
      { receipt: await log.receipt(4), leafHash: log.leaves[5]! },
      { receipt: await stranger.receipt(0), leafHash: stranger.leaves[0]! },
      { receipt: utf8('not a receipt'), leafHash: leafHash(utf8('x')) },
    )
    const trusted = new TrustedKeys([log.receiptKey], nodeSignatures)
    const expected = items.map((item) => checkReceipt('receipt', item.receipt, item.leafHash, trusted))
    pool = new ReceiptPool([log.receiptKey], { threads: 2, batchSize: 7 })
    assert.equal(pool.size, 2)
    const results = await pool.verify(items)
    assert.deepEqual(results, expected)
    assert.deepEqual(results.slice(0, 40).map((r) => r.check.status), Array(40).fill('ok'))
    assert.deepEqual(results.slice(40).map((r) => [r.check.status, r.check.code]), [
      ['failed', 'BAD_SIGNATURE'], ['failed', 'BAD_SIGNATURE'], ['skipped', 'UNKNOWN_KEY'], ['failed', 'MALFORMED'],
    ])
    assert.equal(results[39]!.verified?.leafIndex, 39)
    assert.deepEqual(await pool.verify([]), [])
  })

  it('refuses bad arguments and work after close', async () => {
    const log = new TestLog('example.com/pool-closed')
    log.append(utf8('e'))
    assert.throws(() => new ReceiptPool([log.receiptKey], { threads: 0 }), RangeError)
    pool = new ReceiptPool([log.receiptKey], { threads: 1 })
    await assert.rejects(pool.verify([{ receipt: await log.receipt(0), leafHash: new Uint8Array(31) }]), RangeError)
    assert.equal((await pool.verify([{ receipt: await log.receipt(0), leafHash: log.leaves[0]! }]))[0]!.check.status, 'ok')
    await pool.close()
    await assert.rejects(pool.verify([]), (err: Error & { code?: string }) => err.code === 'INTERNAL')
  })
})
