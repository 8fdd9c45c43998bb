/**
 * fsck: re-derives the whole log from its stored entries and checks everything else against it:
 * every stored checkpoint (root, note text, signature, seal), the tree state (size and peaks), every
 * hash tile part (full, and the partial ones at the edge), and the entry-id index. It streams the
 * database in key order, so its memory does not grow with the log.
 */
import {
  EMPTY_ROOT, TILE_WIDTH, decodeSeal, equalBytes, leafHash, openCheckpoint, parseCheckpoint, parseEntryBundle, parseNote,
  sigStructure, toHex, type NoteVerifier, type Verifier,
} from '@scitt/core'
import { scan, type LogDatabase, type LogIterator } from './database.js'
import {
  BUNDLE_RANGE, CHECKPOINT_RANGE, STATE_KEY, VIEW, bundleKey, decodeCheckpointRecord, decodeIndex, decodeTreeState, idKey,
  indexFromBundleKey, sizeFromCheckpointKey, tileFromKey, type CheckpointRecord,
} from './layout.js'
import { TilePart, partWidth } from './tile-parts.js'
import { TreeEdge, type Put } from './tree-edge.js'

export interface FsckOptions {
  /** The log's origin: every checkpoint must name it. */
  origin: string
  /** True for an own log (each entry once); a mirror may hold an entry twice (the index keeps the first). */
  unique?: boolean
  /** When given, every checkpoint's note must carry a valid signature by one of these log keys. */
  noteVerifiers?: readonly NoteVerifier[]
  /** When given, every receipt seal must verify over its checkpoint's root under one of these keys. */
  receiptVerifiers?: readonly Verifier[]
}

export interface FsckReport {
  ok: boolean
  /** The stored tree size. */
  size: number
  /** Entries re-hashed. */
  entries: number
  /** Checkpoints checked against the re-derived roots. */
  checkpoints: number
  /** Size of the last stored checkpoint (below `size` only after a crash between the writes, until the log reopens). */
  latestCheckpoint: number | undefined
  /** What does not match, at most 100 lines. */
  errors: string[]
}

const MAX_ERRORS = 100
/** Thrown out of a scan to end it once a failure is recorded. */
class Stop extends Error {}
const STOP = new Stop('stop')

export async function fsck (db: LogDatabase, options: FsckOptions): Promise<FsckReport> {
  const errors: string[] = []
  const fail = (message: string): void => { if (errors.length < MAX_ERRORS) errors.push(message) }
  const stateValue = await db.get(STATE_KEY, VIEW)
  const state = stateValue === undefined ? { size: 0, peaks: [] } : decodeTreeState(stateValue)
  const checkpoints = new Cursor(db)
  let edge = TreeEdge.empty()
  let entries = 0
  let checked = 0
  let latestCheckpoint: number | undefined

  const checkCheckpoints = async (): Promise<void> => {
    for (let next = await checkpoints.peek(); next !== undefined && next.size <= edge.size; next = await checkpoints.peek()) {
      await checkpoints.advance()
      latestCheckpoint = next.size
      checked++
      if (next.size < edge.size) fail(`checkpoint ${next.size} was skipped`)
      else checkCheckpoint(next, edge.range.root(), options, fail)
    }
  }

  const compare = async (puts: readonly Put[], what: (put: Put) => boolean): Promise<void> => {
    const chosen = puts.filter(what)
    if (chosen.length === 0) return
    const stored = await db.getMany(chosen.map((p) => p.key), VIEW)
    chosen.forEach((put, i) => {
      const value = stored[i]
      if (value === undefined || !equalBytes(value, put.value)) fail(`stored record ${toHex(put.key)} differs from the re-derived one`)
    })
  }

  try {
    await checkCheckpoints()
    await scan(db, BUNDLE_RANGE, async (key, value) => {
      const n = indexFromBundleKey(key)
      const width = Math.min(TILE_WIDTH, state.size - n * TILE_WIDTH)
      if (n * TILE_WIDTH !== edge.size || width <= 0) {
        fail(`entry bundle ${n} does not follow the ${edge.size} entries before it within tree size ${state.size}`)
        throw STOP
      }
      let bundle: Uint8Array[]
      try {
        bundle = parseEntryBundle(value, width)
      } catch (err) {
        fail(`entry bundle ${n}: ${(err as Error).message}`)
        throw STOP
      }
      const leaves = bundle.map((entry) => ({ entry, leafHash: leafHash(entry) }))
      entries += leaves.length
      const indexes = await db.getMany(leaves.map((l) => idKey(l.leafHash)), VIEW)
      for (const [i, value] of indexes.entries()) {
        const position = n * TILE_WIDTH + i
        const index = value === undefined ? undefined : decodeIndex(value)
        if (index === position) continue
        // A mirror's index may point at another occurrence of the same entry; an own log holds each once.
        if (index === undefined || options.unique === true || !(await holdsLeafAt(db, index, leaves[i]!.leafHash))) {
          fail(`entry ${position} is indexed at ${String(index)}`)
        }
      }
      // Extend up to each checkpoint size inside this bundle, so that every signed root is compared.
      for (let from = 0; from < leaves.length;) {
        const next = await checkpoints.peek()
        const gap = next === undefined ? Infinity : next.size - edge.size
        const to = gap > 0 && gap < leaves.length - from ? from + gap : leaves.length
        const step = edge.extend(leaves.slice(from, to))
        edge = step.edge
        await compare(step.puts, isFullPart)
        await checkCheckpoints()
        from = to
      }
    })
  } catch (err) {
    if (err !== STOP) {
      await checkpoints.close()
      throw err
    }
  }
  if (edge.size !== state.size) fail(`tree state has size ${state.size}, the stored entries give ${edge.size}`)
  else {
    if (!equalBytes(concat(state.peaks), concat(edge.range.peaks))) fail('tree state peaks differ from the re-derived ones')
    // A log that never stored an entry has no tree state record: the empty tree is its state.
    const records = stateValue === undefined && edge.size === 0 ? edge.edgeRecords().filter((put) => !equalBytes(put.key, STATE_KEY)) : edge.edgeRecords()
    await compare(records, () => true)
  }
  for (let next = await checkpoints.peek(); next !== undefined; next = await checkpoints.peek()) {
    await checkpoints.advance()
    latestCheckpoint = next.size
    fail(`checkpoint ${next.size} is beyond the ${edge.size} re-derived entries`)
  }
  await checkpoints.close()
  return { ok: errors.length === 0, size: state.size, entries, checkpoints: checked, latestCheckpoint, errors }
}

function checkCheckpoint (record: CheckpointRecord, rootHash: Uint8Array, options: FsckOptions, fail: (m: string) => void): void {
  const at = `checkpoint ${record.size}`
  if (!equalBytes(record.rootHash, rootHash)) fail(`${at} has root ${toHex(record.rootHash)}, the entries give ${toHex(rootHash)}`)
  if (record.size === 0 && !equalBytes(record.rootHash, EMPTY_ROOT)) fail(`${at} is not the empty root`)
  try {
    const checkpoint = parseCheckpoint(parseNote(record.note).text)
    if (checkpoint.origin !== options.origin) fail(`${at} names origin ${checkpoint.origin}`)
    if (checkpoint.size !== record.size || !equalBytes(checkpoint.rootHash, record.rootHash)) fail(`${at}: its note says otherwise`)
    if (options.noteVerifiers !== undefined) openCheckpoint(record.note, options.noteVerifiers)
  } catch (err) {
    fail(`${at}: ${(err as Error).message}`)
  }
  if (options.receiptVerifiers !== undefined) {
    if (record.seal.length === 0) {
      fail(`${at} has no receipt seal`)
      return
    }
    try {
      const seal = decodeSeal(record.seal)
      const signed = sigStructure(seal.protectedBytes, record.rootHash)
      if (!options.receiptVerifiers.some((v) => v.verify(signed, seal.signature))) fail(`${at}: receipt seal does not verify`)
    } catch (err) {
      fail(`${at}: receipt seal: ${(err as Error).message}`)
    }
  }
}

/** A put of a tile part that is complete (a full strip, or the crown of a full tile): final, so comparable now. */
function isFullPart (put: Put): boolean {
  const tile = tileFromKey(put.key)
  return tile !== undefined && new TilePart(tile.part, put.value).width === partWidth(tile.part, TILE_WIDTH)
}

function concat (hashes: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(hashes.length * 32)
  hashes.forEach((h, i) => out.set(h, i * 32))
  return out
}

/** Stored checkpoints in size order, one at a time. */
class Cursor {
  readonly #it: LogIterator
  #buffer: CheckpointRecord[] = []
  #done = false

  constructor (db: LogDatabase) {
    this.#it = db.iterator({ ...CHECKPOINT_RANGE, ...VIEW })
  }

  async peek (): Promise<CheckpointRecord | undefined> {
    if (this.#buffer.length === 0 && !this.#done) {
      const rows = await this.#it.nextv(64)
      if (rows.length === 0) this.#done = true
      this.#buffer = rows.map(([key, value]) => decodeCheckpointRecord(sizeFromCheckpointKey(key), value))
    }
    return this.#buffer[0]
  }

  async advance (): Promise<void> {
    this.#buffer.shift()
  }

  async close (): Promise<void> {
    await this.#it.close()
  }
}

/** Whether the stored entry at `index` has this leaf hash. */
async function holdsLeafAt (db: LogDatabase, index: number, hash: Uint8Array): Promise<boolean> {
  const bundle = await db.get(bundleKey(Math.floor(index / TILE_WIDTH)), VIEW)
  if (bundle === undefined) return false
  try {
    const entry = parseEntryBundle(bundle)[index % TILE_WIDTH]
    return entry !== undefined && equalBytes(leafHash(entry), hash)
  } catch {
    return false
  }
}
