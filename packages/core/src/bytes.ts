/**
 * Byte helpers with strict, canonical decoders: every decoder rejects what its encoder
 * would not produce (wrong alphabet, missing or extra padding, non-zero trailing bits, odd hex).
 */
import { malformed } from './errors.js'

/** Array.isArray without widening a typed array type to any[] (for the runtime checks of typed parameters). */
export function isArray (value: unknown): value is readonly unknown[] {
  return Array.isArray(value)
}

export function assertBytes (value: unknown, name: string, length?: number): asserts value is Uint8Array {
  if (!(value instanceof Uint8Array)) throw new TypeError(`${name} must be a Uint8Array`)
  if (length !== undefined && value.length !== length) {
    throw new RangeError(`${name} must be ${length} bytes, got ${value.length}`)
  }
}

export function equalBytes (a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false
  let diff = 0
  for (let i = 0; i < a.length; i++) diff |= a[i]! ^ b[i]!
  return diff === 0
}

/** Lexicographic byte order, as RFC 8949 §4.2.1 sorts map keys. */
export function compareBytes (a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length)
  for (let i = 0; i < n; i++) {
    if (a[i] !== b[i]) return a[i]! - b[i]!
  }
  return a.length - b.length
}

export function concatBytes (...parts: Uint8Array[]): Uint8Array {
  let length = 0
  for (const p of parts) length += p.length
  const out = new Uint8Array(length)
  let offset = 0
  for (const p of parts) {
    out.set(p, offset)
    offset += p.length
  }
  return out
}

const HEX = '0123456789abcdef'
const HEX_PAIRS: string[] = Array.from({ length: 256 }, (_, i) => HEX[i >> 4]! + HEX[i & 15]!)

/** Lowercase hex. */
export function toHex (bytes: Uint8Array): string {
  let s = ''
  for (let i = 0; i < bytes.length; i++) s += HEX_PAIRS[bytes[i]!]
  return s
}

/** Strict lowercase hex decoding (what `toHex` emits, nothing else). */
export function fromHex (hex: string): Uint8Array {
  if (typeof hex !== 'string') throw new TypeError('hex must be a string')
  if (hex.length % 2 !== 0 || !/^[0-9a-f]*$/.test(hex)) throw malformed('invalid lowercase hex')
  const out = new Uint8Array(hex.length / 2)
  for (let i = 0; i < out.length; i++) out[i] = parseInt(hex.slice(2 * i, 2 * i + 2), 16)
  return out
}

const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/'
const B64URL = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'

function encode64 (bytes: Uint8Array, alphabet: string, pad: boolean): string {
  let s = ''
  let i = 0
  for (; i + 2 < bytes.length; i += 3) {
    const n = (bytes[i]! << 16) | (bytes[i + 1]! << 8) | bytes[i + 2]!
    s += alphabet[n >> 18]! + alphabet[(n >> 12) & 63]! + alphabet[(n >> 6) & 63]! + alphabet[n & 63]!
  }
  const rest = bytes.length - i
  if (rest === 1) {
    const n = bytes[i]! << 16
    s += alphabet[n >> 18]! + alphabet[(n >> 12) & 63]! + (pad ? '==' : '')
  } else if (rest === 2) {
    const n = (bytes[i]! << 16) | (bytes[i + 1]! << 8)
    s += alphabet[n >> 18]! + alphabet[(n >> 12) & 63]! + alphabet[(n >> 6) & 63]! + (pad ? '=' : '')
  }
  return s
}

function reverse (alphabet: string): Int16Array {
  const table = new Int16Array(128).fill(-1)
  for (let i = 0; i < alphabet.length; i++) table[alphabet.charCodeAt(i)] = i
  return table
}
const B64_REV = reverse(B64)
const B64URL_REV = reverse(B64URL)

function decode64 (text: string, table: Int16Array, pad: boolean, what: string): Uint8Array {
  if (typeof text !== 'string') throw new TypeError(`${what} must be a string`)
  let body = text
  if (pad) {
    if (text.length % 4 !== 0) throw malformed(`${what}: length is not a multiple of 4`)
    if (text.endsWith('==')) body = text.slice(0, -2)
    else if (text.endsWith('=')) body = text.slice(0, -1)
  }
  if (body.length % 4 === 1) throw malformed(`${what}: impossible length`)
  const out = new Uint8Array(Math.floor(body.length * 3 / 4))
  let acc = 0
  let bits = 0
  let o = 0
  for (let i = 0; i < body.length; i++) {
    const c = body.charCodeAt(i)
    const v = c < 128 ? table[c]! : -1
    if (v < 0) throw malformed(`${what}: invalid character`)
    acc = ((acc << 6) | v) & 0xffffff
    bits += 6
    if (bits >= 8) {
      bits -= 8
      out[o++] = (acc >> bits) & 0xff
    }
  }
  if ((acc & ((1 << bits) - 1)) !== 0) throw malformed(`${what}: non-zero trailing bits`)
  return out
}

/** Standard base64 with padding (RFC 4648 §4). */
export function toBase64 (bytes: Uint8Array): string { return encode64(bytes, B64, true) }
/** Strict standard base64 with padding: rejects missing padding, other alphabets and non-canonical bits. */
export function fromBase64 (text: string): Uint8Array { return decode64(text, B64_REV, true, 'base64') }
/** base64url without padding (RFC 4648 §5), as SCRAPI paths carry kids. */
export function toBase64Url (bytes: Uint8Array): string { return encode64(bytes, B64URL, false) }
/** Strict base64url without padding. */
export function fromBase64Url (text: string): Uint8Array { return decode64(text, B64URL_REV, false, 'base64url') }

const encoder = new TextEncoder()
const decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true })

export function utf8 (text: string): Uint8Array { return encoder.encode(text) }

/** Strict UTF-8 decoding: invalid sequences are MALFORMED. */
export function fromUtf8 (bytes: Uint8Array): string {
  try {
    return decoder.decode(bytes)
  } catch (cause) {
    throw malformed('invalid UTF-8', cause)
  }
}

/** Big-endian uint64 from a safe integer. */
export function u64be (value: number): Uint8Array {
  if (!Number.isSafeInteger(value) || value < 0) throw new RangeError('u64 value must be a non-negative safe integer')
  const out = new Uint8Array(8)
  const hi = Math.floor(value / 0x100000000) // < 2^21
  const lo = value >>> 0 // value mod 2^32
  out[1] = hi >>> 16
  out[2] = hi >>> 8
  out[3] = hi
  out[4] = lo >>> 24
  out[5] = lo >>> 16
  out[6] = lo >>> 8
  out[7] = lo
  return out
}

/** Reads a big-endian uint64 at `offset`; values above 2^53−1 are MALFORMED. */
export function readU64be (bytes: Uint8Array, offset = 0): number {
  if (offset + 8 > bytes.length) throw malformed('truncated uint64')
  const view = new DataView(bytes.buffer, bytes.byteOffset + offset, 8)
  const hi = view.getUint32(0)
  const lo = view.getUint32(4)
  if (hi > 0x1fffff) throw malformed('uint64 above 2^53-1')
  return hi * 0x100000000 + lo
}
