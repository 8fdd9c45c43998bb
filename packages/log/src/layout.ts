/**
 * The storage layout of one log in one abstract-level database (binary keys and values, 'view'
 * encoding). Integers in keys are big-endian uint64, so key order is numeric order.
 *
 *   's'                  tree state: u64 size ‖ the compact range's peaks (32 bytes each, largest first)
 *   'c' ‖ u64 size       a signed checkpoint: root ‖ u32 note length ‖ note text ‖ encoded receipt seal
 *   'i' ‖ leaf hash      entry id → u64 leaf index (the first index the entry got)
 *
 * The entries, tiles and the latest checkpoint are files (static-tree.ts, node-records.ts). Logs
 * written before kept tile parts ('t' ‖ u8 L ‖ u64 N ‖ u8 part) and entry bundles ('e' ‖ u64 N) here:
 * migrate.ts moves them to the files.
 */
import { HASH_SIZE, ScittError, concatBytes, readU64be, u64be } from '@scitt/core'

/** The per-operation encoding options every read and write of the log uses. */
export const VIEW = { keyEncoding: 'view', valueEncoding: 'view' } as const

const STATE = 0x73
const CHECKPOINT = 0x63
const TILE = 0x74
const BUNDLE = 0x65
const ID = 0x69

export const STATE_KEY = Uint8Array.of(STATE)

function prefixed (prefix: number, ...parts: Uint8Array[]): Uint8Array {
  return concatBytes(Uint8Array.of(prefix), ...parts)
}

export function checkpointKey (size: number): Uint8Array { return prefixed(CHECKPOINT, u64be(size)) }
export function idKey (leafHash: Uint8Array): Uint8Array { return prefixed(ID, leafHash) }

/** Key ranges for scans, in key order. */
export const CHECKPOINT_RANGE = { gte: Uint8Array.of(CHECKPOINT), lt: Uint8Array.of(CHECKPOINT + 1) }
/** The ranges of the earlier layout's tile parts and entry bundles (migrate.ts). */
export const LEGACY_TILE_RANGE = { gte: Uint8Array.of(TILE), lt: Uint8Array.of(TILE + 1) }
export const LEGACY_BUNDLE_RANGE = { gte: Uint8Array.of(BUNDLE), lt: Uint8Array.of(BUNDLE + 1) }

export function sizeFromCheckpointKey (key: Uint8Array): number { return readU64be(key, 1) }
export function indexFromLegacyBundleKey (key: Uint8Array): number { return readU64be(key, 1) }

/** A plain Uint8Array copy of bytes[start, end): databases hand out Buffers whose slice() is a view. */
export function copyBytes (bytes: Uint8Array, start = 0, end = bytes.length): Uint8Array {
  return new Uint8Array(bytes.subarray(start, end))
}

/** A stored value that does not decode means the database is damaged: INTERNAL, never MALFORMED. */
export function corrupt (what: string, cause?: unknown): ScittError {
  return new ScittError('INTERNAL', `stored ${what} is corrupt`, cause === undefined ? {} : { cause })
}

export interface TreeStateRecord { size: number, peaks: Uint8Array[] }

export function encodeTreeState (size: number, peaks: readonly Uint8Array[]): Uint8Array {
  return concatBytes(u64be(size), ...peaks)
}

export function decodeTreeState (value: Uint8Array): TreeStateRecord {
  try {
    const size = readU64be(value, 0)
    if ((value.length - 8) % HASH_SIZE !== 0) throw new Error('peaks are not whole hashes')
    const peaks: Uint8Array[] = []
    for (let at = 8; at < value.length; at += HASH_SIZE) peaks.push(copyBytes(value, at, at + HASH_SIZE))
    return { size, peaks }
  } catch (cause) {
    throw corrupt('tree state', cause)
  }
}

export function encodeIndex (index: number): Uint8Array { return u64be(index) }

export function decodeIndex (value: Uint8Array): number {
  if (value.length !== 8) throw corrupt('entry index')
  try {
    return readU64be(value, 0)
  } catch (cause) {
    throw corrupt('entry index', cause)
  }
}

/** What the log stores per signed size: the root it signed, the signed note, the receipt seal. */
export interface CheckpointRecord {
  size: number
  rootHash: Uint8Array
  /** The C2SP signed note (checkpoint text and signature lines). */
  note: string
  /** The encoded receipt seal (core's encodeSeal); empty when the origin gave none (mirror). */
  seal: Uint8Array
}

const encoder = new TextEncoder()
const decoder = new TextDecoder('utf-8', { fatal: true })

export function encodeCheckpointRecord (record: CheckpointRecord): Uint8Array {
  const note = encoder.encode(record.note)
  const length = new Uint8Array(4)
  new DataView(length.buffer).setUint32(0, note.length)
  return concatBytes(record.rootHash, length, note, record.seal)
}

export function decodeCheckpointRecord (size: number, value: Uint8Array): CheckpointRecord {
  try {
    if (value.length < HASH_SIZE + 4) throw new Error('too short')
    const length = new DataView(value.buffer, value.byteOffset + HASH_SIZE, 4).getUint32(0)
    const start = HASH_SIZE + 4
    if (start + length > value.length) throw new Error('truncated note')
    return {
      size,
      rootHash: copyBytes(value, 0, HASH_SIZE),
      note: decoder.decode(value.subarray(start, start + length)),
      seal: copyBytes(value, start + length),
    }
  } catch (cause) {
    throw corrupt(`checkpoint of size ${size}`, cause)
  }
}
