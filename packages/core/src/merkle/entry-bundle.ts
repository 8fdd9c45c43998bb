/**
 * C2SP tlog-tiles entry bundles: 1..256 entries, each a big-endian uint16 length followed by that
 * many bytes. Entry i's RFC 6962 leaf hash is hash i of the matching level-0 tile.
 */
import { malformed } from '../errors.js'
import { isArray } from '../bytes.js'
import { TILE_WIDTH } from './tile.js'

/** The largest entry a bundle can hold. */
export const MAX_ENTRY_SIZE = 0xffff

/** RangeError for no entries, more than 256, or an entry over 65 535 bytes. */
export function encodeEntryBundle (entries: readonly Uint8Array[]): Uint8Array {
  if (!isArray(entries)) throw new TypeError('entries must be an array')
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
  const entries = splitEntries(bytes, TILE_WIDTH, 'entry bundle holds more than 256 entries')
  if (entries.length === 0) throw malformed('empty entry bundle')
  if (expectedCount !== undefined && entries.length !== expectedCount) {
    throw malformed(`entry bundle holds ${entries.length} entries, expected ${expectedCount}`)
  }
  return entries
}

/**
 * Full bundles (256 entries each) concatenated, as their entries: 1..`count` bundles. MALFORMED for
 * anything else (a partial bundle, more bundles than `count`, a truncated entry).
 */
export function parseEntryBundles (bytes: Uint8Array, count: number): Uint8Array[][] {
  if (!Number.isInteger(count) || count < 1) throw new RangeError('count must be a positive integer')
  const entries = splitEntries(bytes, count * TILE_WIDTH, `entry bundles: more than the ${count} asked for`)
  if (entries.length === 0) throw malformed('entry bundles: none')
  if (entries.length % TILE_WIDTH !== 0) throw malformed('entry bundles: the last bundle is not full')
  const bundles: Uint8Array[][] = []
  for (let i = 0; i < entries.length; i += TILE_WIDTH) bundles.push(entries.slice(i, i + TILE_WIDTH))
  return bundles
}

/** The length-prefixed entries of `bytes` (the walk of every bundle parser), at most `max` (MALFORMED with `tooMany` beyond). */
function splitEntries (bytes: Uint8Array, max: number, tooMany: string): Uint8Array[] {
  const entries: Uint8Array[] = []
  let at = 0
  while (at < bytes.length) {
    if (entries.length === max) throw malformed(tooMany)
    if (at + 2 > bytes.length) throw malformed('entry bundle: truncated length prefix')
    const length = (bytes[at]! << 8) | bytes[at + 1]!
    if (at + 2 + length > bytes.length) throw malformed('entry bundle: truncated entry')
    entries.push(bytes.subarray(at + 2, at + 2 + length))
    at += 2 + length
  }
  return entries
}
