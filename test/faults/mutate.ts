/**
 * Hostile inputs for the fault suite: fast-check arbitraries that mutate valid samples (bit
 * flips, truncation, extension, byte insertion, length-field inflation, nesting) or generate inputs from
 * nothing, and `attackDoor`, which feeds them to one decoder ("door") and checks its contract: every
 * input is either accepted or refused with the door's own error type and a stable code (the same input
 * twice gives the same code), never another exception, and every call returns within a time bound.
 */
import assert from 'node:assert/strict'
import fc from 'fast-check'
import { ERROR_CODES, isScittError } from '@scitt/core'

/** How a door's bytes are laid out, which decides where length fields are and how nesting is done. */
export type Format = 'cbor' | 'text' | 'json' | 'u32'

export type MutationKind = 'bitflip' | 'truncate' | 'extend' | 'insert' | 'inflate' | 'nest' | 'random'

export interface Mutant {
  kind: MutationKind
  bytes: Uint8Array
}

const enc = new TextEncoder()

/** Offsets and head lengths of every data item of well-formed CBOR (a valid sample). */
function cborHeads (bytes: Uint8Array): Array<{ offset: number, headLength: number, major: number }> {
  const heads: Array<{ offset: number, headLength: number, major: number }> = []
  const walk = (at: number): number => {
    const initial = bytes[at]!
    const major = initial >> 5
    const info = initial & 31
    const extra = info < 24 ? 0 : 2 ** (info - 24)
    let n = info
    if (extra > 0) {
      n = 0
      for (let i = 1; i <= extra; i++) n = n * 256 + bytes[at + i]!
    }
    heads.push({ offset: at, headLength: 1 + extra, major })
    let next = at + 1 + extra
    if (major === 2 || major === 3) return next + n
    if (major === 4) for (let i = 0; i < n; i++) next = walk(next)
    if (major === 5) for (let i = 0; i < 2 * n; i++) next = walk(next)
    if (major === 6) next = walk(next)
    return next
  }
  walk(0)
  return heads
}

/** Where the length-like fields of a valid sample are: CBOR heads, decimal numbers, the u32 prefix. */
function lengthFields (bytes: Uint8Array, format: Format): Array<{ offset: number, length: number, major?: number }> {
  if (format === 'cbor') return cborHeads(bytes).map((h) => ({ offset: h.offset, length: h.headLength, major: h.major }))
  const fields: Array<{ offset: number, length: number }> = format === 'u32' ? [{ offset: 0, length: 4 }] : []
  const text = Buffer.from(bytes).toString('latin1')
  for (const m of text.matchAll(/[0-9]+/g)) fields.push({ offset: m.index, length: m[0].length })
  return fields
}

/** Huge or off-by-one values written over a length field. */
const CBOR_INFLATED = [
  Uint8Array.of(27, 0x10, 0, 0, 0, 0, 0, 0, 0), // 2^60
  Uint8Array.of(27, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff), // 2^64 - 1
  Uint8Array.of(27, 0, 0x20, 0, 0, 0, 0, 0, 1), // 2^53 + 1
  Uint8Array.of(26, 0xff, 0xff, 0xff, 0xff), // 2^32 - 1
  Uint8Array.of(26, 0x40, 0, 0, 0), // 1 GiB
  Uint8Array.of(25, 0xff, 0xff),
  Uint8Array.of(31), // indefinite length
]
const DECIMAL_INFLATED = ['18446744073709551616', '9007199254740993', '9007199254740992', '99999999999999999999999999', '4294967296', '1073741824', '-1', '00', '1e9', '0x10', '+5']
const U32_INFLATED = [0xffffffff, 0x80000000, 0x40000000, 0x00100001]

function inflate (bytes: Uint8Array, format: Format, pick: number, value: number): Uint8Array {
  const fields = lengthFields(bytes, format)
  if (fields.length === 0) return bytes
  const f = fields[pick % fields.length]!
  let replacement: Uint8Array
  if (format === 'cbor') {
    const head = CBOR_INFLATED[value % CBOR_INFLATED.length]!
    replacement = Uint8Array.from(head)
    replacement[0] = ((f.major ?? 2) << 5) | head[0]!
  } else if (format === 'u32' && f.offset === 0 && f.length === 4) {
    replacement = new Uint8Array(4)
    new DataView(replacement.buffer).setUint32(0, U32_INFLATED[value % U32_INFLATED.length]!)
  } else {
    replacement = enc.encode(DECIMAL_INFLATED[value % DECIMAL_INFLATED.length])
  }
  const out = new Uint8Array(bytes.length - f.length + replacement.length)
  out.set(bytes.subarray(0, f.offset))
  out.set(replacement, f.offset)
  out.set(bytes.subarray(f.offset + f.length), f.offset + replacement.length)
  return out
}

/** Deep nesting: CBOR one-element arrays around an item, JSON arrays around a value, a text line repeated. */
function nest (bytes: Uint8Array, format: Format, pick: number, depth: number): Uint8Array {
  if (format === 'cbor') {
    const heads = cborHeads(bytes)
    const at = heads[pick % heads.length]!.offset
    const wrapper = new Uint8Array(depth).fill(pick % 2 === 0 ? 0x81 : 0xd2) // [..] or tag 18
    return Buffer.concat([bytes.subarray(0, at), wrapper, bytes.subarray(at)])
  }
  const text = Buffer.from(bytes).toString('utf8')
  if (format === 'json') {
    const tokens = [...text.matchAll(/-?[0-9]+|"(?:[^"\\]|\\.)*"|true|false|null/g)]
    if (tokens.length === 0) return bytes
    const t = tokens[pick % tokens.length]!
    const deep = pick % 3 === 0 ? `${'{"a":'.repeat(depth)}0${'}'.repeat(depth)}` : `${'['.repeat(depth)}${t[0]}${']'.repeat(depth)}`
    // Only values are wrapped: a key followed by ":" is left alone.
    if (text[t.index + t[0].length] === ':') return enc.encode(`${'['.repeat(depth)}${text}${']'.repeat(depth)}`)
    return enc.encode(text.slice(0, t.index) + deep + text.slice(t.index + t[0].length))
  }
  const lines = text.split('\n')
  const i = pick % lines.length
  const copies = Math.min(depth, 2000)
  return enc.encode([...lines.slice(0, i), ...Array<string>(copies).fill(lines[i]!), ...lines.slice(i + 1)].join('\n'))
}

/** One mutation of `base` (never the identity for bit flips; the others may rarely give a valid input). */
function mutant (base: Uint8Array, format: Format): fc.Arbitrary<Mutant> {
  const n = Math.max(base.length, 1)
  return fc.oneof(
    fc.tuple(fc.nat(n * 8 - 1), fc.nat(3)).map(([bit, more]): Mutant => {
      const bytes = Uint8Array.from(base)
      for (let k = 0; k <= more; k++) {
        const b = (bit + k * 7919) % (n * 8)
        if (b < bytes.length * 8) bytes[b >> 3]! ^= 1 << (b & 7)
      }
      return { kind: 'bitflip', bytes }
    }),
    fc.nat(n - 1).map((at): Mutant => ({ kind: 'truncate', bytes: base.slice(0, at) })),
    fc.uint8Array({ minLength: 1, maxLength: 512 }).map((tail): Mutant => ({ kind: 'extend', bytes: Buffer.concat([base, tail]) })),
    fc.tuple(fc.nat(n), fc.uint8Array({ minLength: 1, maxLength: 16 })).map(([at, ins]): Mutant => ({
      kind: 'insert', bytes: Buffer.concat([base.subarray(0, at), ins, base.subarray(at)]),
    })),
    fc.tuple(fc.nat(1 << 16), fc.nat(64)).map(([pick, value]): Mutant => ({ kind: 'inflate', bytes: inflate(base, format, pick, value) })),
    fc.tuple(fc.nat(1 << 16), fc.integer({ min: 17, max: 20_000 })).map(([pick, depth]): Mutant => ({ kind: 'nest', bytes: nest(base, format, pick, depth) })),
  )
}

/** Inputs from nothing: random bytes, random CBOR heads, or lines built from a door's vocabulary. */
function generated (format: Format, vocabulary: readonly string[] = []): fc.Arbitrary<Mutant> {
  const bytes = fc.uint8Array({ maxLength: 2048 })
  const heads = fc.array(fc.tuple(fc.nat(7), fc.nat(31), fc.uint8Array({ maxLength: 9 })), { maxLength: 64 })
    .map((items) => Buffer.concat(items.flatMap(([major, info, arg]) => [Uint8Array.of((major << 5) | info), arg])))
  const words = fc.oneof(
    fc.constantFrom(...(vocabulary.length > 0 ? vocabulary : ['x'])),
    fc.string({ maxLength: 24 }),
    fc.bigInt({ min: -1n, max: 1n << 70n }).map(String),
  )
  const lines = fc.array(fc.array(words, { maxLength: 6 }).map((w) => w.join(' ')), { maxLength: 24 })
    .map((l) => enc.encode(l.join('\n') + (l.length % 2 === 0 ? '\n' : '')))
  const json = fc.jsonValue({ maxDepth: 4 }).map((v) => enc.encode(JSON.stringify(v) ?? 'null'))
  const pick = format === 'cbor' ? fc.oneof(bytes, heads) : format === 'json' ? fc.oneof(json, lines, bytes) : fc.oneof(lines, bytes)
  return pick.map((b): Mutant => ({ kind: 'random', bytes: Uint8Array.from(b) }))
}

/** The hostile inputs of a door: mutants of each valid sample and generated inputs. */
export function hostile (samples: readonly Uint8Array[], format: Format, vocabulary: readonly string[] = []): fc.Arbitrary<Mutant> {
  return fc.oneof(
    { arbitrary: fc.oneof(...samples.map((s) => mutant(s, format))), weight: 4 },
    { arbitrary: generated(format, vocabulary), weight: 1 },
  )
}

/** A decoder under attack: it returns (accepted) or throws; `codeOf` names an expected refusal, or undefined for any other exception. */
export interface Door {
  name: string
  format: Format
  samples: Uint8Array[]
  decode: (bytes: Uint8Array) => unknown
  /** Default: a ScittError with a known code gives its code. */
  codeOf?: (err: unknown) => string | undefined
  vocabulary?: string[]
}

export interface DoorReport {
  door: string
  cases: number
  /** Inputs that were not a valid sample (all but the sanity runs). */
  hostile: number
  accepted: number
  codes: Record<string, number>
  kinds: Record<string, number>
  maxMs: number
}

export function emptyReport (door: Door): DoorReport {
  return { door: door.name, cases: 0, hostile: 0, accepted: 0, codes: {}, kinds: {}, maxMs: 0 }
}

function scittCode (err: unknown): string | undefined {
  return isScittError(err) && (ERROR_CODES as readonly string[]).includes(err.code) ? err.code : undefined
}

async function outcome (door: Door, bytes: Uint8Array): Promise<{ code: string | undefined, error?: unknown, ms: number }> {
  const started = performance.now()
  try {
    await door.decode(bytes)
    return { code: undefined, ms: performance.now() - started }
  } catch (err) {
    const code = (door.codeOf ?? scittCode)(err)
    return { code: code ?? 'UNEXPECTED', error: err, ms: performance.now() - started }
  }
}

function describeInput (bytes: Uint8Array): string {
  const hex = Buffer.from(bytes.subarray(0, 96)).toString('hex')
  return `${bytes.length} bytes: ${hex}${bytes.length > 96 ? '…' : ''}`
}

/**
 * Runs `runs` hostile inputs through a door (after checking that every valid sample is accepted) and
 * asserts its contract; a call slower than `maxMs` counts as a hang. `report` is filled as it goes (it
 * also counts the inputs tried before a failure).
 */
export async function attackDoor (door: Door, runs: number, report = emptyReport(door), maxMs = 1000): Promise<DoorReport> {
  for (const sample of door.samples) {
    const o = await outcome(door, sample)
    report.cases++
    assert.equal(o.code, undefined, `${door.name}: a valid sample was refused: ${String(o.error)}`)
  }
  await fc.assert(fc.asyncProperty(hostile(door.samples, door.format, door.vocabulary), async (m) => {
    const first = await outcome(door, m.bytes)
    report.cases++
    report.hostile++
    report.kinds[m.kind] = (report.kinds[m.kind] ?? 0) + 1
    report.maxMs = Math.max(report.maxMs, first.ms)
    assert.notEqual(first.code, 'UNEXPECTED', `${door.name}: ${m.kind} input (${describeInput(m.bytes)}) threw ${String((first.error as Error)?.stack ?? first.error)}`)
    assert.ok(first.ms < maxMs, `${door.name}: ${m.kind} input (${describeInput(m.bytes)}) took ${first.ms.toFixed(0)} ms`)
    const again = await outcome(door, m.bytes)
    assert.equal(again.code, first.code, `${door.name}: unstable outcome for ${describeInput(m.bytes)}`)
    if (first.code === undefined) report.accepted++
    else report.codes[first.code] = (report.codes[first.code] ?? 0) + 1
  }), { numRuns: runs, endOnFailure: true })
  return report
}

/** One line for the report's notes: the codes seen (most frequent first) and the slowest call. */
export function summarize (reports: readonly DoorReport[]): string {
  const codes: Record<string, number> = {}
  for (const r of reports) for (const [c, n] of Object.entries(r.codes)) codes[c] = (codes[c] ?? 0) + n
  const accepted = reports.reduce((a, r) => a + r.accepted, 0)
  const slowest = Math.max(...reports.map((r) => r.maxMs))
  return `${Object.entries(codes).sort((a, b) => b[1] - a[1]).map(([c, n]) => `${c} ${n}`).join(', ')}; accepted ${accepted}; slowest ${slowest.toFixed(1)} ms`
}
