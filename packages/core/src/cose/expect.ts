/** Internal helpers that read decoded CBOR values strictly: every mismatch is MALFORMED naming the field. */
import { malformed } from '../errors.js'
import type { CborMap, CborValue } from './cbor.js'

export function expectMap (value: CborValue | undefined, what: string): CborMap {
  if (!(value instanceof Map)) throw malformed(`${what} must be a map`)
  return value
}

export function expectArray (value: CborValue | undefined, what: string, length?: number): CborValue[] {
  if (!Array.isArray(value)) throw malformed(`${what} must be an array`)
  if (length !== undefined && value.length !== length) throw malformed(`${what} must have ${length} elements`)
  return value
}

export function expectBytes (value: CborValue | undefined, what: string, length?: number): Uint8Array {
  if (!(value instanceof Uint8Array)) throw malformed(`${what} must be a byte string`)
  if (length !== undefined && value.length !== length) throw malformed(`${what} must be ${length} bytes`)
  return value
}

export function expectText (value: CborValue | undefined, what: string): string {
  if (typeof value !== 'string') throw malformed(`${what} must be a text string`)
  return value
}

export function expectInt (value: CborValue | undefined, what: string): number {
  if (typeof value !== 'number') throw malformed(`${what} must be an integer`)
  return value
}

/** A non-negative integer that fits a safe JS number (sizes and indexes). */
export function expectSize (value: CborValue | undefined, what: string): number {
  if (typeof value !== 'number' || value < 0) throw malformed(`${what} must be an unsigned integer below 2^53`)
  return value
}
