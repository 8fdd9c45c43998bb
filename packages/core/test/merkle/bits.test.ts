import assert from 'node:assert/strict'
import fc from 'fast-check'
import { bitLength, trailingZeros } from '../../src/merkle/bits.js'

/** Trailing zero bits of n > 0 with BigInt, the plain way. */
function trailingZerosBig (n: number): number {
  let count = 0
  for (let v = BigInt(n); (v & 1n) === 0n; v >>= 1n) count++
  return count
}

describe('merkle: 53-bit-safe bit arithmetic', () => {
  it('trailingZeros at every power of two up to 2^52, its neighbours, and 2^53−1', () => {
    for (let k = 0; k <= 52; k++) {
      assert.equal(trailingZeros(2 ** k), k)
      assert.equal(trailingZeros(3 * 2 ** k), k, `3·2^${k}`)
      if (k > 0) assert.equal(trailingZeros(2 ** k + 1), 0)
      if (k > 1) assert.equal(trailingZeros(2 ** k - 2), 1)
    }
    assert.equal(trailingZeros(Number.MAX_SAFE_INTEGER), 0)
    assert.equal(trailingZeros(Number.MAX_SAFE_INTEGER - 1), 1)
    assert.equal(trailingZeros(2 ** 52 + 2 ** 32), 32)
    assert.equal(trailingZeros(2 ** 52 + 2 ** 31), 31)
    assert.throws(() => trailingZeros(0), RangeError)
  })

  it('property: trailingZeros equals the BigInt count for safe integers', () => {
    fc.assert(fc.property(fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER }), fc.integer({ min: 0, max: 52 }), (n, shift) => {
      const m = Math.max(1, Math.floor(n / 2 ** shift)) * 2 ** shift // many trailing zeros, still safe
      assert.equal(trailingZeros(n), trailingZerosBig(n))
      if (Number.isSafeInteger(m)) assert.equal(trailingZeros(m), trailingZerosBig(m))
    }), { numRuns: 2000 })
  })

  it('bitLength agrees with the BigInt length', () => {
    fc.assert(fc.property(fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }), (n) => {
      assert.equal(bitLength(n), BigInt(n).toString(2).replace(/^0$/, '').length)
    }), { numRuns: 1000 })
  })
})
