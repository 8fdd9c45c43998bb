import assert from 'node:assert/strict'
import { inspect } from 'node:util'
import fc from 'fast-check'
import { decodeCbor, encodeCbor, encodeCborHead, fromHex, isScittError, Tagged, toHex, type CborValue, type ErrorCode } from '@scitt/core'

function fails (hex: string, code: ErrorCode, options = {}): void {
  assert.throws(() => decodeCbor(fromHex(hex), options), (e: unknown) => isScittError(e, code), hex)
}

describe('cose/cbor: deterministic encoding', () => {
  it('matches RFC 8949 Appendix A', () => {
    const table: Array<[CborValue, string]> = [
      [0, '00'], [1, '01'], [10, '0a'], [23, '17'], [24, '1818'], [25, '1819'], [100, '1864'], [1000, '1903e8'],
      [1000000, '1a000f4240'], [1000000000000, '1b000000e8d4a51000'],
      [18446744073709551615n, '1bffffffffffffffff'], [-18446744073709551616n, '3bffffffffffffffff'],
      [-1, '20'], [-10, '29'], [-100, '3863'], [-1000, '3903e7'],
      [Number.MAX_SAFE_INTEGER, '1b001fffffffffffff'], [-Number.MAX_SAFE_INTEGER, '3b001ffffffffffffe'],
      [false, 'f4'], [true, 'f5'], [null, 'f6'],
      [new Uint8Array(0), '40'], [fromHex('01020304'), '4401020304'],
      ['', '60'], ['a', '6161'], ['IETF', '6449455446'], ['"\\', '62225c'], ['\u00fc', '62c3bc'], ['\u6c34', '63e6b0b4'],
      ['\ud800\udd51', '64f0908591'],
      [[], '80'], [[1, 2, 3], '83010203'], [[1, [2, 3], [4, 5]], '8301820203820405'],
      [Array.from({ length: 25 }, (_, i) => i + 1), '98190102030405060708090a0b0c0d0e0f101112131415161718181819'],
      [new Map(), 'a0'], [new Map([[1, 2], [3, 4]]), 'a201020304'],
      [new Map<string, CborValue>([['a', 1], ['b', [2, 3]]]), 'a26161016162820203'],
      [['a', new Map([['b', 'c']])], '826161a161626163'],
      [new Tagged(1, 1363896240), 'c11a514b67b0'],
      [new Tagged(23, fromHex('01020304')), 'd74401020304'],
      [new Tagged(24, fromHex('6449455446')), 'd818456449455446'],
    ]
    for (const [value, hex] of table) {
      assert.equal(toHex(encodeCbor(value)), hex, hex)
      assert.deepEqual(decodeCbor(fromHex(hex), { tags: [1, 23, 24] }), value, hex)
    }
  })

  it('sorts map keys by their encoded bytes (RFC 8949 §4.2.1)', () => {
    const map = new Map<number | string, CborValue>([[100, 'd'], ['z', 'c'], [-1, 'b'], [10, 'a']])
    // 10 → 0a, 100 → 1864, -1 → 20, "z" → 617a
    assert.equal(toHex(encodeCbor(map)), 'a4' + '0a6161' + '18646164' + '206162' + '617a6163')
    assert.equal(toHex(encodeCbor(new Map<number | string, CborValue>([['aa', 1], ['b', 2]]))), 'a2' + '616202' + '62616101')
  })

  it('refuses values outside the data model', () => {
    for (const bad of [1.5, NaN, Infinity, 2 ** 53, undefined, {}, Symbol('x')]) {
      assert.throws(() => encodeCbor(bad as unknown as CborValue), TypeError, inspect(bad))
    }
    assert.throws(() => encodeCbor(2n ** 64n), RangeError)
    assert.throws(() => encodeCbor(-(2n ** 64n) - 1n), RangeError)
    assert.throws(() => encodeCbor(new Map<CborValue, CborValue>([[new Uint8Array(1), 1]]) as Map<number, CborValue>), TypeError)
    assert.throws(() => encodeCbor(new Map<number | bigint, CborValue>([[1, 1], [1n, 2]])), TypeError)
  })
})

describe('cose/cbor: strict decoding', () => {
  it('rejects a negative table with coded errors', () => {
    const table: Array<[string, string, ErrorCode]> = [
      ['empty', '', 'MALFORMED'],
      ['truncated head', '19', 'MALFORMED'],
      ['truncated uint64', '1b000000', 'MALFORMED'],
      ['truncated bstr', '43aabb', 'MALFORMED'],
      ['truncated array', '830102', 'MALFORMED'],
      ['truncated map value', 'a201020304'.slice(0, 8), 'MALFORMED'],
      ['indefinite bstr', '5f41aaff', 'MALFORMED'],
      ['indefinite tstr', '7f6161ff', 'MALFORMED'],
      ['indefinite array', '9f01ff', 'MALFORMED'],
      ['indefinite map', 'bf0102ff', 'MALFORMED'],
      ['lone break', 'ff', 'MALFORMED'],
      ['reserved 28', '1c', 'MALFORMED'],
      ['reserved 29', '3d', 'MALFORMED'],
      ['reserved 30', '5e', 'MALFORMED'],
      ['bstr length 2^64-1', '5bffffffffffffffff', 'MALFORMED'],
      ['bstr length 2^53', '5b0020000000000000', 'MALFORMED'],
      ['tstr length 2^32-1', '7affffffff', 'MALFORMED'],
      ['array count 2^64-1', '9bffffffffffffffff', 'MALFORMED'],
      ['array count 2^32-1', '9affffffff00', 'MALFORMED'],
      ['map count 2^64-1', 'bbffffffffffffffff', 'MALFORMED'],
      ['map count beyond input', 'a30102', 'MALFORMED'],
      ['trailing byte', '0100', 'MALFORMED'],
      ['two items', '8001', 'MALFORMED'],
      ['duplicate int key', 'a201020103', 'MALFORMED'],
      ['duplicate text key', 'a2616101616102', 'MALFORMED'],
      ['duplicate key, non-shortest', 'a20102180103', 'MALFORMED'],
      ['bstr key', 'a14101f6', 'MALFORMED'],
      ['array key', 'a18001', 'MALFORMED'],
      ['bool key', 'a1f501', 'MALFORMED'],
      ['tag not allowed', 'c11a514b67b0', 'MALFORMED'],
      ['COSE tag not allowed', 'd28440a0f640', 'MALFORMED'],
      ['big tag', 'dbffffffffffffffff00', 'MALFORMED'],
      ['float16', 'f93c00', 'MALFORMED'],
      ['float32', 'fa47c35000', 'MALFORMED'],
      ['float64', 'fb3ff199999999999a', 'MALFORMED'],
      ['undefined', 'f7', 'MALFORMED'],
      ['simple 16', 'f0', 'MALFORMED'],
      ['simple 255', 'f8ff', 'MALFORMED'],
      ['invalid UTF-8', '62c328', 'MALFORMED'],
      ['UTF-8 surrogate', '63eda080', 'MALFORMED'],
      ['overlong UTF-8', '62c0af', 'MALFORMED'],
      ['depth 17', '81'.repeat(17) + '00', 'TOO_LARGE'],
      ['depth 1000 arrays', '81'.repeat(1000) + '00', 'TOO_LARGE'],
      ['depth 1000 maps', 'a100'.repeat(1000) + '00', 'TOO_LARGE'],
    ]
    for (const [name, hex, code] of table) {
      assert.throws(() => decodeCbor(fromHex(hex)), (e: unknown) => isScittError(e, code), name)
    }
    // Tag 18 itself is fine when allowed.
    assert.ok(decodeCbor(fromHex('d28440a0f640'), { tags: [18] }) instanceof Tagged)
    assert.deepEqual(decodeCbor(fromHex('81'.repeat(16) + '00')), JSON.parse('['.repeat(16) + '0' + ']'.repeat(16)))
  })

  it('does not allocate for declared lengths beyond the input', () => {
    const start = process.memoryUsage().arrayBuffers
    for (let i = 0; i < 1000; i++) fails('5a7fffffff', 'MALFORMED')
    assert.ok(process.memoryUsage().arrayBuffers - start < 64 * 1024 * 1024)
  })

  it('enforces size, depth and item limits with TOO_LARGE', () => {
    fails('43010203', 'TOO_LARGE', { maxSize: 3 })
    assert.deepEqual(decodeCbor(fromHex('43010203'), { maxSize: 4 }), fromHex('010203'))
    fails('8181818100', 'TOO_LARGE', { maxDepth: 3 })
    assert.deepEqual(decodeCbor(fromHex('81818100'), { maxDepth: 3 }), [[[0]]])
    fails('8401020304', 'TOO_LARGE', { maxItems: 4 })
    assert.deepEqual(decodeCbor(fromHex('83010203'), { maxItems: 4 }), [1, 2, 3])
  })

  it('accepts non-deterministic input unless asked, and keeps big integers exact', () => {
    assert.equal(decodeCbor(fromHex('1817')), 23)
    assert.deepEqual(decodeCbor(fromHex('a203040102')), new Map([[3, 4], [1, 2]]))
    fails('1817', 'MALFORMED', { deterministic: true })
    fails('190017', 'MALFORMED', { deterministic: true })
    fails('a203040102', 'MALFORMED', { deterministic: true })
    fails('5800', 'MALFORMED', { deterministic: true })
    assert.equal(decodeCbor(fromHex('1b0020000000000000')), 2n ** 53n)
    assert.equal(decodeCbor(fromHex('3b0020000000000000')), -(2n ** 53n) - 1n)
    assert.equal(decodeCbor(fromHex('3b001ffffffffffffe')), -Number.MAX_SAFE_INTEGER)
    assert.equal(decodeCbor(fromHex('3b001fffffffffffff')), -(2n ** 53n))
    assert.equal(decodeCbor(fromHex('1b001fffffffffffff')), Number.MAX_SAFE_INTEGER)
    assert.equal(decodeCbor(fromHex('1bffffffffffffffff')), 2n ** 64n - 1n)
    assert.equal(decodeCbor(fromHex('1affffffff')), 2 ** 32 - 1)
    assert.equal(decodeCbor(fromHex('19ffff')), 2 ** 16 - 1)
  })

  it('hands out byte strings that are copies, not views of the input', () => {
    const input = fromHex('824201024103')
    const [a, b] = decodeCbor(input) as Uint8Array[]
    input.fill(0xff)
    assert.deepEqual([a, b], [Uint8Array.of(1, 2), Uint8Array.of(3)])
    assert.equal(a!.byteOffset, 0)
    assert.equal(a!.buffer.byteLength, 2)
  })
})

describe('cose/cbor: encodeCborHead', () => {
  it('writes shortest heads and refuses arguments outside a head', () => {
    assert.equal(toHex(encodeCborHead(2, 23)), '57')
    assert.equal(toHex(encodeCborHead(2, 24)), '5818')
    assert.equal(toHex(encodeCborHead(4, 0x100)), '990100')
    assert.equal(toHex(encodeCborHead(0, 2 ** 32)), '1b0000000100000000')
    assert.equal(toHex(encodeCborHead(1, 2n ** 64n - 1n)), '3bffffffffffffffff')
    assert.throws(() => encodeCborHead(8, 0), RangeError)
    assert.throws(() => encodeCborHead(0, -1), RangeError)
    assert.throws(() => encodeCborHead(0, 1.5), RangeError)
    assert.throws(() => encodeCborHead(0, 2n ** 64n), RangeError)
  })
})

const cborValue: fc.Arbitrary<CborValue> = fc.letrec<{ value: CborValue }>((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.integer({ min: -(2 ** 40), max: 2 ** 40 }),
    fc.bigInt({ min: -(2n ** 64n), max: 2n ** 64n - 1n }).map((n) => (n >= -BigInt(Number.MAX_SAFE_INTEGER) && n <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(n) : n)),
    fc.string({ unit: 'grapheme', maxLength: 8 }),
    fc.uint8Array({ maxLength: 16 }),
    fc.constantFrom(true, false, null),
    fc.array(tie('value'), { maxLength: 4 }),
    fc.uniqueArray(fc.tuple(fc.oneof(fc.integer({ min: -1000, max: 1000 }), fc.string({ maxLength: 4 })), tie('value')), { maxLength: 4, selector: ([k]) => k })
      .map((entries) => new Map(entries)),
    tie('value').map((v) => new Tagged(18, v)),
  ),
})).value

describe('cose/cbor: properties', () => {
  it('decode(encode(v)) = v, and the encoding is deterministic', () => {
    fc.assert(fc.property(cborValue, (value) => {
      const bytes = encodeCbor(value)
      const decoded = decodeCbor(bytes, { tags: [18], deterministic: true })
      assert.deepEqual(decoded, value)
      assert.equal(toHex(encodeCbor(decoded)), toHex(bytes))
    }), { numRuns: 300 })
  })

  it('random bytes decode or fail with a ScittError, never anything else', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 64 }), (bytes) => {
      try {
        decodeCbor(bytes, { tags: [18] })
      } catch (e) {
        assert.ok(isScittError(e), String(e))
      }
    }), { numRuns: 2000 })
  })
})
