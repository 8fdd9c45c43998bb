import assert from 'node:assert/strict'
import fc from 'fast-check'
import { perfectSubtrees } from '@scitt/core'

/** The maximal perfect subtrees of [begin, end) with BigInt: greedily the largest aligned one that fits. */
function perfectSubtreesBig (begin: number, end: number): Array<{ level: number, index: number }> {
  const out: Array<{ level: number, index: number }> = []
  for (let at = BigInt(begin); at < BigInt(end);) {
    let level = 0
    while (level < 53 && at % (2n ** BigInt(level + 1)) === 0n && at + 2n ** BigInt(level + 1) <= BigInt(end)) level++
    out.push({ level, index: Number(at / 2n ** BigInt(level)) })
    at += 2n ** BigInt(level)
  }
  return out
}

describe('merkle: perfectSubtrees', () => {
  it('covers [0, size) with one peak per set bit, for sizes near 2^53', () => {
    for (const size of [1, 2, 3, 7, 2 ** 32 - 1, 2 ** 32, 2 ** 32 + 1, 2 ** 52, 2 ** 53 - 1, 2 ** 53 - 2]) {
      assert.deepEqual(perfectSubtrees(0, size), perfectSubtreesBig(0, size), `[0, ${size})`)
    }
    assert.equal(perfectSubtrees(0, 2 ** 53 - 1).length, 53)
    assert.deepEqual(perfectSubtrees(5, 5), [])
    assert.throws(() => perfectSubtrees(6, 5), RangeError)
    assert.throws(() => perfectSubtrees(0, 2 ** 53), RangeError)
  })

  it('property: equals the greedy BigInt cover for any safe range', () => {
    fc.assert(fc.property(
      fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }), fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }), fc.integer({ min: 0, max: 40 }),
      (a, b, small) => {
        const [begin, end] = a <= b ? [a, b] : [b, a]
        assert.deepEqual(perfectSubtrees(begin, end), perfectSubtreesBig(begin, end))
        const near = Math.min(Number.MAX_SAFE_INTEGER, begin + small) // short ranges, many pieces per level
        assert.deepEqual(perfectSubtrees(begin, near), perfectSubtreesBig(begin, near))
      },
    ), { numRuns: 500 })
  })
})
