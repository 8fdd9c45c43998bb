/** The stored layout of hash tiles in parts (strips and crown): every node is where a proof looks for it. */
import assert from 'node:assert/strict'
import fc from 'fast-check'
import { TILE_HEIGHT, equalBytes, sha256Digest, u64be } from '@scitt/core'
import { CROWN, TilePart, changedParts, encodePart, partWidth, placeOf, tileBytes, tileNodes, type TileNodes } from '../src/tile-parts.js'

/** A tile of `width` with a distinct hash per (sublevel, position). */
function tileOf (width: number): TileNodes {
  return Array.from({ length: TILE_HEIGHT }, (_, sub) =>
    Array.from({ length: Math.floor(width / 2 ** sub) }, (_, pos) => sha256Digest(u64be(sub * 1000 + pos))))
}

function partsOf (nodes: TileNodes): Map<number, TilePart> {
  return new Map(changedParts(0, nodes[0]!.length).map((k) => [k, new TilePart(k, encodePart(nodes, k))]))
}

describe('tile parts', () => {
  it('finds every node of a tile of any width in its part, and rebuilds the tile from its parts', () => {
    fc.assert(fc.property(fc.integer({ min: 1, max: 256 }), fc.nat(1000), (width, tileIndex) => {
      const nodes = tileOf(width)
      const parts = partsOf(nodes)
      assert.equal(parts.has(CROWN), width >= 32)
      for (let sub = 0; sub < TILE_HEIGHT; sub++) {
        nodes[sub]!.forEach((hash, pos) => {
          const place = placeOf({ level: 8 * 3 + sub, index: tileIndex * (256 / 2 ** sub) + pos })
          assert.deepEqual([place.level, place.index], [3, tileIndex])
          const part = parts.get(place.part)!
          const at = part.offset(place.sub, place.pos)
          assert.ok(at >= 0 && equalBytes(part.bytes.subarray(at, at + 32), hash), `node ${sub}/${pos} of width ${width}`)
        })
      }
      const rebuilt = tileNodes([...parts.values()])
      assert.deepEqual(rebuilt.map((s) => s.length), nodes.map((s) => s.length))
      assert.ok(rebuilt.every((s, sub) => s.every((h, pos) => equalBytes(h, nodes[sub]![pos]!))))
      const strips = [...parts.entries()].filter(([k]) => k !== CROWN).map(([, p]) => p)
      const served = tileBytes(strips, width)
      assert.ok(nodes[0]!.every((h, pos) => equalBytes(served.subarray(pos * 32, pos * 32 + 32), h)))
    }), { numRuns: 60 })
  })

  it('rewrites only the parts that a growing tile changes, and a wider part extends the narrower one', () => {
    fc.assert(fc.property(fc.integer({ min: 0, max: 255 }), fc.integer({ min: 1, max: 256 }), (a, b) => {
      const [from, to] = a < b ? [a, b] : [b - 1, b]
      const before = partsOf(tileOf(Math.max(from, 1)))
      const after = partsOf(tileOf(to))
      const changed = new Set(changedParts(from, to))
      for (const [k, part] of after) {
        const old = from === 0 ? undefined : before.get(k)
        if (!changed.has(k)) assert.deepEqual(old?.bytes, part.bytes, `part ${k} unchanged from ${from} to ${to}`)
        assert.equal(part.width, partWidth(k, to))
      }
    }), { numRuns: 100 })
  })

  it('refuses a stored part whose length does not match its width', () => {
    const strip = encodePart(tileOf(40), 1)
    assert.equal(new TilePart(1, strip).width, 8)
    for (const bad of [strip.subarray(0, strip.length - 32), Uint8Array.of(0), new Uint8Array(0), Uint8Array.of(33, ...new Uint8Array(32 * 62))]) {
      assert.throws(() => new TilePart(1, bad), /corrupt/)
    }
    assert.throws(() => new TilePart(CROWN, Uint8Array.of(9, ...new Uint8Array(32 * 16))), /corrupt/)
  })
})
