import assert from 'node:assert/strict'
import fc from 'fast-check'
import { CompactRange, EMPTY_ROOT, HASH_SIZE, perfectSubtrees } from '@scitt/core'
import { ReferenceTree, testLeaves } from './reference-tree.js'

const N = 2100
const leaves = testLeaves(N)
const oracle = new ReferenceTree(leaves)

describe('merkle: CompactRange', function () {
  this.timeout(10_000) // hashing-heavy; the shared CI machine may be loaded

  it('matches the reference root for every prefix, and reports every node it creates bottom-up', () => {
    const range = CompactRange.empty()
    assert.equal(range.size, 0)
    assert.deepEqual(range.root(), EMPTY_ROOT)
    const created = new Set<string>()
    for (let n = 0; n < N; n++) {
      const events: Array<[number, number]> = []
      range.append(leaves[n]!, (level, index, hash) => {
        events.push([level, index])
        assert.deepEqual(hash, oracle.node({ level, index }), `node ${level}/${index}`)
        created.add(`${level}/${index}`)
      })
      // The leaf, then one parent per trailing 1-bit of n.
      let ones = 0
      while (Math.floor(n / 2 ** ones) % 2 === 1) ones++
      assert.deepEqual(events, Array.from({ length: ones + 1 }, (_, level) => [level, Math.floor(n / 2 ** level)]))
      assert.equal(range.size, n + 1)
      assert.deepEqual(range.root(), oracle.root(n + 1), `root(${n + 1})`)
      assert.deepEqual(range.peaks, perfectSubtrees(0, n + 1).map((id) => oracle.node(id)))
    }
    // Every perfect node of the final tree was reported exactly once per id.
    let perfect = 0
    for (let level = 0; 2 ** level <= N; level++) perfect += Math.floor(N / 2 ** level)
    assert.equal(created.size, perfect)
  })

  it('resumes from peaks: fromPeaks, append and clone agree with the reference tree', () => {
    fc.assert(fc.property(fc.integer({ min: 0, max: N - 1 }), fc.integer({ min: 1, max: 40 }), (size, more) => {
      const peaks = perfectSubtrees(0, size).map((id) => oracle.node(id))
      const range = CompactRange.fromPeaks(size, peaks)
      assert.equal(range.size, size)
      assert.deepEqual(range.peaks, peaks)
      assert.deepEqual(range.root(), oracle.root(size))
      // A clone evolves independently of its source.
      const clone = range.clone()
      const end = Math.min(N, size + more)
      for (let i = size; i < end; i++) clone.append(leaves[i]!)
      assert.equal(clone.size, end)
      assert.deepEqual(clone.root(), oracle.root(end))
      assert.deepEqual(range.root(), oracle.root(size))
    }), { numRuns: 100 })
  })

  it('does not expose its state through peaks or root', () => {
    const range = CompactRange.empty()
    range.append(leaves[0]!)
    range.root()[0]! ^= 1
    range.peaks[0]![0]! ^= 1
    assert.deepEqual(range.root(), leaves[0])
    const leaf = leaves[1]!.slice()
    range.append(leaf)
    leaf[0]! ^= 1
    assert.deepEqual(range.root(), oracle.root(2))
  })

  it('rejects peaks that do not match the size, and bad leaves', () => {
    const h = new Uint8Array(HASH_SIZE)
    assert.throws(() => CompactRange.fromPeaks(3, [h]), RangeError)
    assert.throws(() => CompactRange.fromPeaks(0, [h]), RangeError)
    assert.throws(() => CompactRange.fromPeaks(4, [h, h]), RangeError)
    assert.throws(() => CompactRange.fromPeaks(1, [new Uint8Array(31)]), RangeError)
    assert.throws(() => CompactRange.fromPeaks(-1, []), RangeError)
    assert.throws(() => CompactRange.fromPeaks(2 ** 53, [h]), RangeError)
    assert.throws(() => CompactRange.fromPeaks(1.5, [h]), RangeError)
    assert.throws(() => CompactRange.empty().append(new Uint8Array(33)), RangeError)
    assert.equal(CompactRange.fromPeaks(0, []).size, 0)
    // The largest safe size has 53 peaks and cannot grow.
    const max = CompactRange.fromPeaks(Number.MAX_SAFE_INTEGER, Array.from({ length: 53 }, () => h))
    assert.equal(max.size, Number.MAX_SAFE_INTEGER)
    assert.throws(() => max.append(h), RangeError)
  })

  it('appends cost one hash per trailing 1-bit and keep popcount(size) peaks near 2^53', () => {
    const h = new Uint8Array(HASH_SIZE)
    const size = 2 ** 52 - 1 // 52 peaks: the next append merges all of them
    const range = CompactRange.fromPeaks(size, Array.from({ length: 52 }, () => h))
    const events: number[] = []
    range.append(h, (level, index) => {
      events.push(level)
      assert.equal(index, Math.floor(size / 2 ** level))
    })
    assert.equal(events.length, 53)
    assert.equal(range.size, 2 ** 52)
    assert.equal(range.peaks.length, 1)
  })
})
