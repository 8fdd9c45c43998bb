/**
 * Bit arithmetic on tree sizes and indexes, which are safe integers up to 2^53−1.
 * JS bitwise operators truncate to 32 bits, so these split a number into two 32-bit halves.
 */
const TWO_32 = 0x100000000

/** RangeError unless `value` is a non-negative safe integer. */
export function assertIndex (value: unknown, name: string): asserts value is number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
    throw new RangeError(`${name} must be a non-negative safe integer`)
  }
}

function hi (n: number): number { return Math.floor(n / TWO_32) }
function lo (n: number): number { return n % TWO_32 }

/** Number of bits needed to write n (0 for 0). */
export function bitLength (n: number): number {
  const h = hi(n)
  return h > 0 ? 64 - Math.clz32(h) : 32 - Math.clz32(lo(n))
}

/** Number of set bits. */
export function popcount (n: number): number {
  return popcount32(hi(n)) + popcount32(lo(n))
}

function popcount32 (x: number): number {
  let count = 0
  for (let v = x >>> 0; v !== 0; v = (v & (v - 1)) >>> 0) count++
  return count
}

/** a XOR b. */
export function xor (a: number, b: number): number {
  return ((hi(a) ^ hi(b)) >>> 0) * TWO_32 + ((lo(a) ^ lo(b)) >>> 0)
}

/** n >> k, without 32-bit truncation. */
export function shiftRight (n: number, k: number): number {
  return Math.floor(n / 2 ** k)
}

/** Number of trailing zero bits of n > 0 (x & −x keeps the lowest set bit of a 32-bit half). */
export function trailingZeros (n: number): number {
  if (n <= 0) throw new RangeError('trailingZeros needs n > 0')
  const l = lo(n)
  if (l !== 0) return 31 - Math.clz32(l & -l)
  const h = hi(n)
  return 63 - Math.clz32(h & -h)
}
