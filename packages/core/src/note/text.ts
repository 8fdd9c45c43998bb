/**
 * Text helpers shared by the C2SP line-based parsers in this folder (internal: not re-exported).
 * Every failure is a ScittError: TOO_LARGE over a size limit, MALFORMED otherwise.
 */
import { fromBase64, fromUtf8 } from '../bytes.js'
import { ScittError, malformed } from '../errors.js'
import { HASH_SIZE } from '../merkle/hash.js'

/** Decodes `input` (strict UTF-8 when bytes) and checks it with `checkText`. */
export function decodeText (input: Uint8Array | string, maxSize: number, what: string, allowTab = false): string {
  if (typeof input === 'string') {
    checkText(input, maxSize, what, allowTab)
    return input
  }
  if (!(input instanceof Uint8Array)) throw new TypeError(`${what} must be a string or a Uint8Array`)
  if (input.length > maxSize) throw tooLarge(what, maxSize)
  const text = fromUtf8(input)
  checkText(text, maxSize, what, allowTab)
  return text
}

/**
 * Checks that `text` is at most `maxSize` bytes in UTF-8 (TOO_LARGE), is well-formed UTF-16 (no lone
 * surrogates, which UTF-8 cannot carry) and has no control character below U+0020 except "\n"
 * (and "\t" when `allowTab`), as C2SP signed-note requires (MALFORMED).
 */
export function checkText (text: string, maxSize: number, what: string, allowTab = false): void {
  if (text.length > maxSize) throw tooLarge(what, maxSize)
  let size = 0
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i)
    if (c < 0x20) {
      if (c !== 0x0a && !(allowTab && c === 0x09)) throw malformed(`${what} contains control character U+${c.toString(16).padStart(4, '0')}`)
      size += 1
    } else if (c < 0x80) {
      size += 1
    } else if (c < 0x800) {
      size += 2
    } else if (c >= 0xd800 && c <= 0xdbff) {
      const next = text.charCodeAt(i + 1)
      if (!(next >= 0xdc00 && next <= 0xdfff)) throw malformed(`${what} contains a lone surrogate`)
      i++
      size += 4
    } else if (c >= 0xdc00 && c <= 0xdfff) {
      throw malformed(`${what} contains a lone surrogate`)
    } else {
      size += 3
    }
  }
  if (size > maxSize) throw tooLarge(what, maxSize)
}

export function tooLarge (what: string, maxSize: number): ScittError {
  return new ScittError('TOO_LARGE', `${what} is larger than ${maxSize} bytes`)
}

const DECIMAL = /^(?:0|[1-9][0-9]{0,15})$/

/** Canonical ASCII decimal (no sign, no leading zero, no spaces) of a safe integer. */
export function parseDecimal (text: string, what: string): number {
  if (!DECIMAL.test(text)) throw malformed(`${what} is not a canonical decimal`)
  const value = Number(text)
  if (!Number.isSafeInteger(value)) throw malformed(`${what} is above 2^53-1`)
  return value
}

export function assertSafeSize (value: unknown, name: string): asserts value is number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
    throw new RangeError(`${name} must be a non-negative safe integer`)
  }
}

/** One base64 (standard, padded) SHA-256 hash line. */
export function parseHashLine (line: string, what: string): Uint8Array {
  let hash: Uint8Array
  try {
    hash = fromBase64(line)
  } catch (cause) {
    throw malformed(`${what} is not base64`, cause)
  }
  if (hash.length !== HASH_SIZE) throw malformed(`${what} is ${hash.length} bytes, not ${HASH_SIZE}`)
  return hash
}

/** Reads the next "\n"-terminated line at `offset`; MALFORMED when there is none. */
export function nextLine (text: string, offset: number, what: string): { line: string, next: number } {
  const end = text.indexOf('\n', offset)
  if (end < 0) throw malformed(`${what}: missing newline`)
  return { line: text.slice(offset, end), next: end + 1 }
}

/**
 * Reads base64 hash lines from `offset` up to and including the blank line that ends them, at most
 * `max` of them (the proof block of tlog-witness requests and tlog-proof files). MALFORMED otherwise.
 */
export function readHashLines (text: string, offset: number, max: number, what: string): { hashes: Uint8Array[], next: number } {
  const hashes: Uint8Array[] = []
  let next = offset
  for (;;) {
    const read = nextLine(text, next, `${what} without a blank line`)
    next = read.next
    if (read.line === '') return { hashes, next }
    if (hashes.length === max) throw malformed(`more than ${max} ${what} lines`)
    hashes.push(parseHashLine(read.line, `${what} line`))
  }
}
