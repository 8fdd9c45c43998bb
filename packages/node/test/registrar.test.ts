import assert from 'node:assert/strict'
import { ScittError } from '@scitt/core'
import type { Appended, Log } from '@scitt/log'
import { NodeMetrics, silentLogger } from '@scitt/node'
import { Registrar } from '../src/registration/registrar.js'

function registrar (waitMs: number): Registrar {
  return new Registrar({} as Log, new NodeMetrics(), silentLogger(), waitMs)
}

function later<T> (ms: number, value: T): Promise<T> {
  return new Promise((resolve) => setTimeout(() => resolve(value), ms))
}

describe('registrar: bounded waits for integration', () => {
  it('answers with the outcome when it comes within the wait, and undefined when it does not', async () => {
    const r = registrar(80)
    const appended: Appended = { index: 3, entryId: 'ab'.repeat(32) }
    const started = performance.now()
    const [fast, slow, never] = await Promise.all([
      r.within(later(10, appended)),
      r.within(later(400, appended)),
      r.within(new Promise<Appended>(() => {})),
    ])
    const elapsed = performance.now() - started
    assert.deepEqual(fast, appended)
    assert.equal(slow, undefined)
    assert.equal(never, undefined)
    assert.ok(elapsed >= 75 && elapsed < 350, `expired after ${elapsed} ms`)
  })

  it('passes a failure through when it comes within the wait', async () => {
    const r = registrar(200)
    await assert.rejects(r.within(Promise.reject(new ScittError('PUSHBACK', 'full'))), (err: unknown) => (err as ScittError).code === 'PUSHBACK')
  })

  it('expires waits in the order they began, each after its own full wait', async () => {
    const r = registrar(60)
    const expired: number[] = []
    const waits: Array<Promise<void>> = []
    const began: number[] = []
    for (let i = 0; i < 3; i++) {
      began.push(performance.now())
      waits.push(r.within(new Promise<Appended>(() => {})).then(() => { expired[i] = performance.now() - began[i]! }))
      await later(25, undefined)
    }
    await Promise.all(waits)
    for (const ms of expired) assert.ok(ms >= 55 && ms < 300, `expired after ${ms} ms`)
  })
})
