import assert from 'node:assert/strict'
import fc from 'fast-check'
import {
  CompactRange, MAX_ENTRY_SIZE, TILE_WIDTH, encodeEntryBundle, encodeHashTile, fromHex, isScittError, leafHash,
  parseEntryBundle, parseEntryBundles, toHex,
} from '@scitt/core'

const malformed = (e: unknown): boolean => isScittError(e, 'MALFORMED')

describe('merkle: entry bundles (C2SP tlog-tiles)', () => {
  it('encodes uint16 big-endian length-prefixed entries', () => {
    assert.equal(toHex(encodeEntryBundle([new Uint8Array(0), fromHex('00'), fromHex('2021')])), '0000' + '000100' + '00022021')
    const big = new Uint8Array(MAX_ENTRY_SIZE).fill(7)
    const bytes = encodeEntryBundle([big])
    assert.equal(toHex(bytes.subarray(0, 3)), 'ffff07')
    assert.equal(bytes.length, 2 + MAX_ENTRY_SIZE)
    assert.deepEqual(parseEntryBundle(bytes, 1), [big])
  })

  it('round-trips any 1..256 entries', () => {
    fc.assert(fc.property(
      fc.array(fc.uint8Array({ maxLength: 300 }), { minLength: 1, maxLength: TILE_WIDTH }),
      (entries) => {
        const bytes = encodeEntryBundle(entries)
        assert.deepEqual(parseEntryBundle(bytes), entries)
        assert.deepEqual(parseEntryBundle(bytes, entries.length), entries)
        // One byte missing truncates the last entry; one extra byte is half a length prefix.
        assert.throws(() => parseEntryBundle(bytes.subarray(0, bytes.length - 1)), malformed)
        assert.throws(() => parseEntryBundle(new Uint8Array([...bytes, 0])), malformed)
      },
    ), { numRuns: 200 })
  })

  it('rejects malformed bundles', () => {
    const one = encodeEntryBundle([fromHex('abcd')])
    const full = encodeEntryBundle(Array.from({ length: TILE_WIDTH }, () => new Uint8Array(0)))
    const table: Array<[string, Uint8Array, number?]> = [
      ['empty', new Uint8Array(0)],
      ['empty with a count', new Uint8Array(0), 1],
      ['half a length prefix', fromHex('00')],
      ['entry shorter than its length', fromHex('0003abcd')],
      ['length prefix without its entry', fromHex('0001')],
      ['trailing byte after an entry', fromHex('0002abcd00')],
      ['more than 256 entries', new Uint8Array([...full, 0, 0])],
      ['fewer entries than expected', one, 2],
      ['more entries than expected', encodeEntryBundle([one, one]), 1],
      ['a full bundle where a partial one is expected', full, 255],
    ]
    for (const [name, bytes, count] of table) assert.throws(() => parseEntryBundle(bytes, count), malformed, name)
    assert.equal(parseEntryBundle(full, 256).length, 256)
  })

  it('rejects what no bundle can hold, and bad arguments', () => {
    assert.throws(() => encodeEntryBundle([]), RangeError)
    assert.throws(() => encodeEntryBundle(Array.from({ length: TILE_WIDTH + 1 }, () => new Uint8Array(0))), RangeError)
    assert.throws(() => encodeEntryBundle([new Uint8Array(MAX_ENTRY_SIZE + 1)]), RangeError)
    assert.throws(() => encodeEntryBundle(['x' as unknown as Uint8Array]), TypeError)
    assert.throws(() => parseEntryBundle(fromHex('0000'), 0), RangeError)
    assert.throws(() => parseEntryBundle(fromHex('0000'), 257), RangeError)
    assert.throws(() => parseEntryBundle(fromHex('0000'), 1.5), RangeError)
    assert.throws(() => parseEntryBundle([0, 0] as unknown as Uint8Array), TypeError)
  })

  it('matches its level-0 tile: entry i hashes to leaf hash i', () => {
    const entries = Array.from({ length: 100 }, (_, i) => new Uint8Array(i).fill(i))
    const leaves: Uint8Array[] = []
    const range = CompactRange.empty()
    for (const e of entries) range.append(leafHash(e), (level, _index, hash) => { if (level === 0) leaves.push(hash) })
    const parsed = parseEntryBundle(encodeEntryBundle(entries), 100)
    assert.deepEqual(encodeHashTile(parsed.map(leafHash)), encodeHashTile(leaves))
  })

  it('splits full bundles concatenated, 1..count of them, and nothing else', () => {
    const bundle = (tag: number): Uint8Array[] => Array.from({ length: 256 }, (_, i) => Uint8Array.of(tag, i))
    const two = new Uint8Array([...encodeEntryBundle(bundle(1)), ...encodeEntryBundle(bundle(2))])
    assert.deepEqual(parseEntryBundles(two, 2), [bundle(1), bundle(2)])
    assert.deepEqual(parseEntryBundles(two, 3).length, 2, 'fewer than asked is fine')
    const bad: Array<[Uint8Array, number, RegExp]> = [
      [two, 1, /more than the 1 asked for/],
      [two.subarray(0, two.length - 4), 2, /not full/],
      [two.subarray(0, two.length - 1), 2, /truncated entry/],
      [new Uint8Array(0), 1, /none/],
    ]
    for (const [bytes, count, message] of bad) assert.throws(() => parseEntryBundles(bytes, count), (err: unknown) => isScittError(err, 'MALFORMED') && message.test((err as Error).message))
  })
})
