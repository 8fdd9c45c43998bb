/**
 * C2SP tlog-tiles entry bundles: 1..256 entries, each a big-endian uint16 length followed by that
 * many bytes. Entry i's RFC 6962 leaf hash is hash i of the matching level-0 tile.
 */
import { malformed } from '../errors.js'
import { TILE_WIDTH } from './tile.js'

/** The largest entry a bundle can hold. */
export const MAX_ENTRY_SIZE = 0xffff

/** RangeError for no entries, more than 256, or an entry over 65 535 bytes. */
export function encodeEntryBundle (entries: readonly Uint8Array[]): Uint8Array {
  if (!Array.isArray(entries)) throw new TypeError('entries must be an array')
  if (entries.length < 1 || entries.length > TILE_WIDTH) throw new RangeError('an entry bundle holds 1..256 entries')
  let length = 0
  for (const e of entries) {
    if (!(e instanceof Uint8Array)) throw new TypeError('entries must be Uint8Arrays')
    if (e.length > MAX_ENTRY_SIZE) throw new RangeError(`entry of ${e.length} bytes exceeds ${MAX_ENTRY_SIZE}`)
    length += 2 + e.length
  }
  const out = new Uint8Array(length)
  let at = 0
  for (const e of entries) {
    out[at] = e.length >>> 8
    out[at + 1] = e.length & 0xff
    out.set(e, at + 2)
    at += 2 + e.length
  }
  return out
}

/**
 * The entries of a bundle, as subarrays of `bytes`. MALFORMED for an empty bundle, a truncated entry,
 * more than 256 entries, or a count other than `expectedCount` (1..256) when given.
 */
export function parseEntryBundle (bytes: Uint8Array, expectedCount?: number): Uint8Array[] {
  if (!(bytes instanceof Uint8Array)) throw new TypeError('bytes must be a Uint8Array')
  if (expectedCount !== undefined && (!Number.isInteger(expectedCount) || expectedCount < 1 || expectedCount > TILE_WIDTH)) {
    throw new RangeError('expectedCount must be 1..256')
  }
  const entries: Uint8Array[] = []
  let at = 0
  while (at < bytes.length) {
    if (entries.length === TILE_WIDTH) throw malformed('entry bundle holds more than 256 entries')
    if (at + 2 > bytes.length) throw malformed('entry bundle: truncated length prefix')
    const length = (bytes[at]! << 8) | bytes[at + 1]!
    if (at + 2 + length > bytes.length) throw malformed('entry bundle: truncated entry')
    entries.push(bytes.subarray(at + 2, at + 2 + length))
    at += 2 + length
  }
  if (entries.length === 0) throw malformed('empty entry bundle')
  if (expectedCount !== undefined && entries.length !== expectedCount) {
    throw malformed(`entry bundle holds ${entries.length} entries, expected ${expectedCount}`)
  }
  return entries
}
