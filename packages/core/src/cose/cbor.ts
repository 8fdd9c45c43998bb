/**
 * A small, strict CBOR codec (RFC 8949) for everything COSE in this project. Hand-written rather than
 * cbor-x so that the exact bytes we sign and store are auditable in one place.
 *
 * Data model: unsigned/negative integers as `number` when safe and `bigint` beyond; byte strings as
 * `Uint8Array`; text strings as `string`; arrays; `Map` for maps (keys int or tstr only); `false`,
 * `true`, `null`; tags as `Tagged`. Floats, `undefined` and other simple values are not in the model.
 *
 * Encoding is deterministic (RFC 8949 §4.2.1): shortest-form heads, definite lengths, map keys sorted
 * by their encoded bytes.
 *
 * Decoding is for untrusted input: size, depth and item limits; no indefinite lengths, reserved
 * additional-info values (28–30), floats or simple values other than false/true/null; declared lengths
 * are checked against the remaining input before anything is allocated; no trailing bytes, no
 * duplicate map keys, map keys int or tstr only, strict UTF-8, and only the tags the caller allows.
 * Failures are ScittError MALFORMED, or TOO_LARGE for the limits. Non-shortest heads and unsorted map
 * keys are accepted unless `deterministic` is set (other implementations' COSE need not be
 * deterministic; signatures cover the raw protected bytes, never a re-encoding).
 */
import { compareBytes, fromUtf8, utf8 } from '../bytes.js'
import { malformed, ScittError } from '../errors.js'

export type CborKey = number | bigint | string
export type CborMap = Map<CborKey, CborValue>
export type CborValue = number | bigint | string | Uint8Array | boolean | null | CborValue[] | CborMap | Tagged

/** A tagged data item (RFC 8949 §3.4), e.g. `new Tagged(18, [...])` for COSE_Sign1. */
export class Tagged {
  constructor (readonly tag: number, readonly value: CborValue) {
    if (!Number.isSafeInteger(tag) || tag < 0) throw new RangeError('tag must be a non-negative safe integer')
  }
}

export interface CborDecodeOptions {
  /** Maximum input size in bytes (default 1 MiB). */
  maxSize?: number
  /** Maximum nesting depth of arrays, maps and tags (default 16). */
  maxDepth?: number
  /** Maximum number of data items in total (default 65536). */
  maxItems?: number
  /** Tags allowed anywhere in the input (default none). */
  tags?: readonly number[]
  /** Also require deterministic encoding: shortest heads, map keys in ascending encoded order. */
  deterministic?: boolean
}

export const CBOR_DEFAULT_LIMITS = { maxSize: 1 << 20, maxDepth: 16, maxItems: 65536 } as const

const U64_MAX = (1n << 64n) - 1n
const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER)
/** The smallest argument each head size (additional information 24–27) may carry in shortest form. */
const SHORTEST_MIN = [24, 0x100, 0x10000, 0x100000000] as const

// ---------------------------------------------------------------------------------------------
// Encoding

/** Deterministic encoding (RFC 8949 §4.2.1). TypeError / RangeError for values outside the model. */
export function encodeCbor (value: CborValue): Uint8Array {
  writer.reset()
  writer.item(value)
  return writer.result()
}

/** The shortest head of a data item of major type `major` (0–7) with argument `n` (RFC 8949 §3). */
export function encodeCborHead (major: number, n: number | bigint): Uint8Array {
  writer.reset()
  writer.head(major, n)
  return writer.result()
}

/**
 * Writes data items into one buffer that grows by doubling. Encoding is synchronous, so one writer
 * serves every call (and one more the map keys, which are scalars); a buffer grown past KEPT_BYTES
 * is dropped after use.
 */
class Writer {
  readonly #capacity: number
  #buf: Uint8Array
  #view: DataView
  #at = 0

  constructor (capacity: number) {
    this.#capacity = capacity
    this.#buf = new Uint8Array(capacity)
    this.#view = new DataView(this.#buf.buffer)
  }

  reset (): void {
    this.#at = 0
    if (this.#buf.length > KEPT_BYTES) {
      this.#buf = new Uint8Array(this.#capacity)
      this.#view = new DataView(this.#buf.buffer)
    }
  }

  /** A copy of what was written since the last reset. */
  result (): Uint8Array {
    return this.#buf.slice(0, this.#at)
  }

  #room (n: number): void {
    if (this.#at + n <= this.#buf.length) return
    const next = new Uint8Array(Math.max(this.#buf.length * 2, this.#at + n))
    next.set(this.#buf.subarray(0, this.#at))
    this.#buf = next
    this.#view = new DataView(next.buffer)
  }

  bytes (b: Uint8Array): void {
    this.#room(b.length)
    this.#buf.set(b, this.#at)
    this.#at += b.length
  }

  head (major: number, n: number | bigint): void {
    if (!Number.isInteger(major) || major < 0 || major > 7) throw new RangeError('major type must be 0 to 7')
    if (typeof n === 'number' ? !Number.isSafeInteger(n) || n < 0 : n < 0n || n > U64_MAX) throw new RangeError('head argument must be an integer from 0 to 2^64-1')
    const value = typeof n === 'bigint' && n <= MAX_SAFE ? Number(n) : n
    const m = major * 32
    this.#room(9)
    const at = this.#at
    if (typeof value === 'bigint') {
      this.#buf[at] = m + 27
      this.#view.setBigUint64(at + 1, value)
      this.#at += 9
    } else if (value < 24) {
      this.#buf[at] = m + value
      this.#at += 1
    } else if (value < 0x100) {
      this.#buf[at] = m + 24
      this.#buf[at + 1] = value
      this.#at += 2
    } else if (value < 0x10000) {
      this.#buf[at] = m + 25
      this.#view.setUint16(at + 1, value)
      this.#at += 3
    } else if (value < 0x100000000) {
      this.#buf[at] = m + 26
      this.#view.setUint32(at + 1, value)
      this.#at += 5
    } else {
      this.#buf[at] = m + 27
      this.#view.setUint32(at + 1, Math.floor(value / 0x100000000))
      this.#view.setUint32(at + 5, value % 0x100000000)
      this.#at += 9
    }
  }

  #integer (value: number | bigint): void {
    if (typeof value === 'number') {
      if (!Number.isSafeInteger(value)) throw new TypeError(`cannot encode ${value}: only safe integers (floats are not supported)`)
      if (value >= 0) this.head(0, value)
      else this.head(1, -1 - value)
      return
    }
    if (value >= 0n) {
      if (value > U64_MAX) throw new RangeError('integer above 2^64-1')
      this.head(0, value)
    } else {
      if (-1n - value > U64_MAX) throw new RangeError('integer below -2^64')
      this.head(1, -1n - value)
    }
  }

  item (value: CborValue): void {
    if (typeof value === 'number' || typeof value === 'bigint') return this.#integer(value)
    if (typeof value === 'string') {
      const bytes = utf8(value)
      this.head(3, bytes.length)
      this.bytes(bytes)
    } else if (value instanceof Uint8Array) {
      this.head(2, value.length)
      this.bytes(value)
    } else if (value === false || value === true || value === null) {
      this.head(7, value === null ? 22 : value ? 21 : 20)
    } else if (Array.isArray(value)) {
      this.head(4, value.length)
      for (const item of value) this.item(item)
    } else if (value instanceof Map) {
      const entries: Array<[Uint8Array, CborValue]> = []
      for (const [k, v] of value) {
        if (typeof k !== 'string' && typeof k !== 'number' && typeof k !== 'bigint') throw new TypeError('map keys must be integers or text strings')
        keyWriter.reset()
        keyWriter.item(k)
        entries.push([keyWriter.result(), v])
      }
      entries.sort((a, b) => compareBytes(a[0], b[0]))
      this.head(5, entries.length)
      for (let i = 0; i < entries.length; i++) {
        const [k, v] = entries[i]!
        if (i > 0 && compareBytes(entries[i - 1]![0], k) === 0) throw new TypeError('duplicate map key')
        this.bytes(k)
        this.item(v)
      }
    } else if (value instanceof Tagged) {
      this.head(6, value.tag)
      this.item(value.value)
    } else {
      throw new TypeError(`cannot encode ${typeof value} as CBOR`)
    }
  }
}

const KEPT_BYTES = 64 * 1024
const writer = new Writer(1024)
const keyWriter = new Writer(64)

// ---------------------------------------------------------------------------------------------
// Decoding

/** Strict decoding of exactly one data item filling `bytes`. */
export function decodeCbor (bytes: Uint8Array, options: CborDecodeOptions = {}): CborValue {
  if (!(bytes instanceof Uint8Array)) throw new TypeError('CBOR input must be a Uint8Array')
  const maxSize = options.maxSize ?? CBOR_DEFAULT_LIMITS.maxSize
  if (bytes.length > maxSize) throw new ScittError('TOO_LARGE', `CBOR input of ${bytes.length} bytes exceeds ${maxSize}`)
  if (bytes.length === 0) throw malformed('CBOR: empty input')
  const reader = new Reader(bytes, options)
  const value = reader.item(0)
  if (reader.offset !== bytes.length) throw malformed(`CBOR: ${bytes.length - reader.offset} trailing bytes`)
  return value
}

class Reader {
  offset = 0
  private items = 0
  private readonly maxDepth: number
  private readonly maxItems: number
  private readonly tags: readonly number[]
  private readonly deterministic: boolean

  constructor (private readonly bytes: Uint8Array, options: CborDecodeOptions) {
    this.maxDepth = options.maxDepth ?? CBOR_DEFAULT_LIMITS.maxDepth
    this.maxItems = options.maxItems ?? CBOR_DEFAULT_LIMITS.maxItems
    this.tags = options.tags ?? []
    this.deterministic = options.deterministic === true
  }

  private get remaining (): number { return this.bytes.length - this.offset }

  /** The next `n` bytes, as a view into the input (copy it before handing it out). */
  private view (n: number): Uint8Array {
    if (n > this.remaining) throw malformed('CBOR: truncated input')
    const out = this.bytes.subarray(this.offset, this.offset + n)
    this.offset += n
    return out
  }

  /** A big-endian unsigned integer of 1, 2, 4 or 8 bytes: a number when safe, a bigint beyond. */
  private uint (size: number): number | bigint {
    if (size > this.remaining) throw malformed('CBOR: truncated input')
    const b = this.bytes
    const at = this.offset
    this.offset += size
    if (size === 1) return b[at]!
    if (size === 2) return b[at]! * 0x100 + b[at + 1]!
    const high = b[at]! * 0x1000000 + b[at + 1]! * 0x10000 + b[at + 2]! * 0x100 + b[at + 3]!
    if (size === 4) return high
    const low = b[at + 4]! * 0x1000000 + b[at + 5]! * 0x10000 + b[at + 6]! * 0x100 + b[at + 7]!
    // Below 2^21 · 2^32 = 2^53 the value is a safe integer.
    return high < 0x200000 ? high * 0x100000000 + low : (BigInt(high) << 32n) | BigInt(low)
  }

  /** The argument of the head read last. */
  private argument: number | bigint = 0

  /** Reads a head: returns its major type and leaves its argument in `argument`. */
  private head (): number {
    if (this.remaining < 1) throw malformed('CBOR: truncated input')
    const initial = this.bytes[this.offset++]!
    const major = initial >> 5
    const info = initial & 31
    if (info < 24) {
      this.argument = info
      return major
    }
    if (info > 27) {
      throw malformed(info === 31 ? 'CBOR: indefinite lengths and break are not allowed' : `CBOR: reserved additional information ${info}`)
    }
    if (major === 7) throw malformed('CBOR: floats and extended simple values are not allowed')
    const n = this.uint(2 ** (info - 24))
    if (this.deterministic && n < SHORTEST_MIN[info - 24]!) throw malformed('CBOR: non-shortest head')
    this.argument = n
    return major
  }

  private length (n: number | bigint, unit: number, what: string): number {
    if (typeof n === 'bigint' || n * unit > this.remaining) throw malformed(`CBOR: ${what} length beyond the input`)
    return n
  }

  item (depth: number): CborValue {
    if (++this.items > this.maxItems) throw new ScittError('TOO_LARGE', `CBOR: more than ${this.maxItems} items`)
    const major = this.head()
    const n = this.argument
    switch (major) {
      case 0: return n
      case 1: return typeof n === 'number' && n < Number.MAX_SAFE_INTEGER ? -1 - n : -1n - BigInt(n)
      case 2: return this.view(this.length(n, 1, 'byte string')).slice()
      case 3: return fromUtf8(this.view(this.length(n, 1, 'text string')))
      case 4: {
        const count = this.length(n, 1, 'array')
        this.enter(depth)
        const out: CborValue[] = []
        for (let i = 0; i < count; i++) out.push(this.item(depth + 1))
        return out
      }
      case 5: {
        const count = this.length(n, 2, 'map')
        this.enter(depth)
        const out: CborMap = new Map()
        let previous: Uint8Array | undefined
        for (let i = 0; i < count; i++) {
          const start = this.offset
          const key = this.item(depth + 1)
          if (typeof key !== 'number' && typeof key !== 'bigint' && typeof key !== 'string') {
            throw malformed('CBOR: map keys must be integers or text strings')
          }
          if (out.has(key)) throw malformed(`CBOR: duplicate map key ${String(key)}`)
          if (this.deterministic) {
            const encoded = this.bytes.subarray(start, this.offset)
            if (previous !== undefined && compareBytes(previous, encoded) >= 0) throw malformed('CBOR: map keys not in deterministic order')
            previous = encoded
          }
          out.set(key, this.item(depth + 1))
        }
        return out
      }
      case 6: {
        if (typeof n !== 'number' || !this.tags.includes(n)) throw malformed(`CBOR: tag ${String(n)} not allowed here`)
        this.enter(depth)
        return new Tagged(n, this.item(depth + 1))
      }
      default: // major 7 with a one-byte head
        if (n === 20) return false
        if (n === 21) return true
        if (n === 22) return null
        throw malformed(`CBOR: simple value ${String(n)} not allowed`)
    }
  }

  private enter (depth: number): void {
    if (depth >= this.maxDepth) throw new ScittError('TOO_LARGE', `CBOR: nesting deeper than ${this.maxDepth}`)
  }
}
