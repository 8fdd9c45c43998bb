/**
 * fsck: re-derives the whole log from its stored entries (the entry bundle files) and checks
 * everything else against it: every stored checkpoint (root, note text, signature, seal), the tree
 * state (size and peaks), every full hash tile file and node record, the partial files at the tree's
 * size, the `checkpoint` file, and the entry-id index. It streams the log in order, so its memory
 * does not grow with the log. Files beyond the committed tree state (what a crash can leave) and a
 * `checkpoint` file that lags are not errors: they are listed, and `repair` deletes or rewrites them,
 * as the log does when it opens. With `repair`, files inside the tree that differ from the
 * re-derived ones (hash tiles, node records, partials) are rewritten too; entry bundles are the
 * source and are never rewritten. A log still in the earlier layout (migrate.ts) is an error, which
 * `repair` migrates.
 */
import {
  EMPTY_ROOT, TILE_WIDTH, decodeSeal, equalBytes, leafHash, openCheckpoint, parseCheckpoint, parseEntryBundle, parseNote,
  sigStructure, toHex, type NoteVerifier, type Verifier,
} from '@scitt/core'
import type { LogDatabase, LogIterator } from './database.js'
import {
  CHECKPOINT_RANGE, STATE_KEY, VIEW, checkpointKey, decodeCheckpointRecord, decodeIndex, decodeTreeState, idKey, sizeFromCheckpointKey,
  type CheckpointRecord,
} from './layout.js'
import { diskFs } from './log-fs.js'
import { hasLegacyLayout, migrateLegacyLayout } from './migrate.js'
import type { LogFiles } from './log.js'
import { NodeRecords, RECORD_SIZE, encodeRecord } from './node-records.js'
import { CHECKPOINT_FILE, StaticTree, staticPath, type StaticFile } from './static-tree.js'
import { TreeEdge } from './tree-edge.js'

export interface FsckOptions {
  /** The log's origin: every checkpoint must name it. */
  origin: string
  /** True for an own log (each entry once); a mirror may hold an entry twice (the index keeps the first). */
  unique?: boolean
  /** When given, every checkpoint's note must carry a valid signature by one of these log keys. */
  noteVerifiers?: readonly NoteVerifier[]
  /** When given, every receipt seal must verify over its checkpoint's root under one of these keys. */
  receiptVerifiers?: readonly Verifier[]
  /** Delete files beyond the tree, rewrite a lagging `checkpoint` file and derived files that differ. */
  repair?: boolean
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
  /** Files beyond the committed state and a lagging `checkpoint` file: what a crash leaves (at most 100 lines). */
  beyond: string[]
  /** What `repair` rewrote or deleted. */
  repaired: string[]
}

/** The files of the log, as fsck reads (and repairs) them. */
export interface FsckFiles {
  tree: StaticTree
  records: NodeRecords
}

/** fsck of a log that is not open (its database open, its files at `files`); with `repair`, syncs what it writes. */
export async function fsck (db: LogDatabase, files: LogFiles, options: FsckOptions): Promise<FsckReport> {
  const fs = files.fs ?? diskFs
  const records = new NodeRecords(files.nodesDir, fs, true)
  try {
    return await fsckFiles(db, { tree: new StaticTree(files.dir, fs, true), records }, options)
  } finally {
    await records.close()
  }
}

const MAX_ERRORS = 100

/** fsck with the log's own file handles (Log.fsck). */
export async function fsckFiles (db: LogDatabase, files: FsckFiles, options: FsckOptions): Promise<FsckReport> {
  const errors: string[] = []
  const repaired: string[] = []
  const fail = (message: string): void => { if (errors.length < MAX_ERRORS) errors.push(message) }
  if (await hasLegacyLayout(db)) {
    if (options.repair !== true) {
      fail('the log is in the earlier layout (entries and tiles as database records): start the node, or run fsck with repair, to migrate it to files')
      return { ok: false, size: 0, entries: 0, checkpoints: 0, latestCheckpoint: undefined, errors, beyond: [], repaired }
    }
    repaired.push(`migrated ${await migrateLegacyLayout(db, files.tree, files.records)} entries from the earlier layout to files`)
  }
  const stateValue = await db.get(STATE_KEY, VIEW)
  const state = stateValue === undefined ? { size: 0, peaks: [] } : decodeTreeState(stateValue)
  const checkpoints = new Cursor(db)
  let edge = TreeEdge.empty()
  let entries = 0
  let checked = 0
  let latestCheckpoint: number | undefined
  let lastRecord: CheckpointRecord | undefined

  const checkCheckpoints = async (): Promise<void> => {
    for (let next = await checkpoints.peek(); next !== undefined && next.size <= edge.size; next = await checkpoints.peek()) {
      await checkpoints.advance()
      latestCheckpoint = next.size
      lastRecord = next
      checked++
      if (next.size < edge.size) fail(`checkpoint ${next.size} was skipped`)
      else checkCheckpoint(next, edge.range.root(), options, fail)
    }
  }

  /** Compares re-derived static files with the stored ones; with repair, rewrites those that differ. */
  const compareFiles = async (derived: readonly StaticFile[]): Promise<void> => {
    const wrong: StaticFile[] = []
    await Promise.all(derived.map(async (file) => {
      const stored = await files.tree.read(file.path)
      if (stored !== undefined && equalBytes(stored, file.bytes)) return
      if (options.repair === true) wrong.push(file)
      else fail(`file ${file.path} is ${stored === undefined ? 'missing' : 'not the re-derived one'}`)
    }))
    if (wrong.length > 0) {
      await files.tree.rewrite(wrong)
      repaired.push(...wrong.map((f) => `rewrote ${f.path}`))
    }
  }

  try {
    await checkCheckpoints()
    for (let n = 0; n * TILE_WIDTH < state.size; n++) {
      const width = Math.min(TILE_WIDTH, state.size - n * TILE_WIDTH)
      const path = staticPath('entries', n, width)
      const stored = await files.tree.read(path)
      if (stored === undefined) {
        fail(`entry bundle ${path} is missing`)
        break
      }
      let bundle: Uint8Array[]
      try {
        bundle = parseEntryBundle(stored, width)
      } catch (err) {
        fail(`entry bundle ${path}: ${(err as Error).message}`)
        break
      }
      const leaves = bundle.map((entry) => ({ entry, leafHash: leafHash(entry) }))
      entries += leaves.length
      const indexes = await db.getMany(leaves.map((l) => idKey(l.leafHash)), VIEW)
      for (const [i, value] of indexes.entries()) {
        const position = n * TILE_WIDTH + i
        const index = value === undefined ? undefined : decodeIndex(value)
        if (index === position) continue
        // A mirror's index may point at another occurrence of the same entry; an own log holds each once.
        if (index === undefined || options.unique === true || !(await holdsLeafAt(files.tree, index, state.size, leaves[i]!.leafHash))) {
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
        await compareFiles(step.files.filter((f) => !f.path.includes('.p/') && !f.path.startsWith('tile/entries/')))
        await compareRecords(files.records, step.records, options.repair === true, fail, repaired)
        await checkCheckpoints()
        from = to
      }
    }
  } finally {
    await checkpoints.close()
  }
  if (edge.size !== state.size) fail(`tree state has size ${state.size}, the stored entries give ${edge.size}`)
  else {
    if (!equalBytes(concat(state.peaks), concat(edge.range.peaks))) fail('tree state peaks differ from the re-derived ones')
    await compareFiles(edge.edgeFiles().filter((f) => !f.path.startsWith('tile/entries/')))
  }
  for (let next = await checkpoints.peek(); next !== undefined; next = await checkpoints.peek()) {
    await checkpoints.advance()
    latestCheckpoint = next.size
    fail(`checkpoint ${next.size} is beyond the ${edge.size} re-derived entries`)
  }
  const beyond = [...await files.tree.beyond(state.size), ...await files.records.beyond((level) => Math.floor(state.size / TILE_WIDTH ** (level + 1)))]
  const file = await files.tree.read(CHECKPOINT_FILE)
  const note = file === undefined ? undefined : new TextDecoder().decode(file)
  if (lastRecord !== undefined && note !== lastRecord.note) {
    const known = note === undefined ? undefined : await storedNoteSize(db, note)
    if (note !== undefined && known === undefined) fail('the checkpoint file is not a checkpoint the log stored')
    else beyond.push(`${CHECKPOINT_FILE} ${note === undefined ? 'is missing' : `is of size ${known!}, the latest stored is ${lastRecord.size}`}`)
  }
  if (options.repair === true && beyond.length > 0) {
    await files.tree.removeBeyond(state.size)
    await files.records.truncate((level) => Math.floor(state.size / TILE_WIDTH ** (level + 1)))
    if (lastRecord !== undefined && note !== lastRecord.note) await files.tree.replaceCheckpoint(lastRecord.note)
    repaired.push(...beyond.map((b) => `removed or rewrote: ${b}`))
  }
  return {
    ok: errors.length === 0, size: state.size, entries, checkpoints: checked, latestCheckpoint, errors, beyond: beyond.slice(0, MAX_ERRORS), repaired,
  }
}

/** Compares re-derived node records with the stored ones; with repair, rewrites those that differ. */
async function compareRecords (
  records: NodeRecords, derived: ReturnType<TreeEdge['extend']>['records'], repair: boolean, fail: (m: string) => void, repaired: string[],
): Promise<void> {
  const wrong: typeof derived = []
  await Promise.all(derived.map(async (record) => {
    const stored = await records.readRecord(record.level, record.index)
    if (stored.length === RECORD_SIZE && equalBytes(stored, encodeRecord(record.nodes))) return
    if (repair) wrong.push(record)
    else fail(`node record of tile ${record.level}/${record.index} is ${stored.length < RECORD_SIZE ? 'missing' : 'not the re-derived one'}`)
  }))
  if (wrong.length > 0) {
    await records.write(wrong)
    repaired.push(...wrong.map((r) => `rewrote the node record of tile ${r.level}/${r.index}`))
  }
}

/** The size of the stored checkpoint whose note this is, if any. */
async function storedNoteSize (db: LogDatabase, note: string): Promise<number | undefined> {
  try {
    const size = parseCheckpoint(parseNote(note).text).size
    const value = await db.get(checkpointKey(size), VIEW)
    return value !== undefined && decodeCheckpointRecord(size, value).note === note ? size : undefined
  } catch {
    return undefined
  }
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

/** Whether the stored entry at `index` (of a tree of `size`) has this leaf hash. */
async function holdsLeafAt (tree: StaticTree, index: number, size: number, hash: Uint8Array): Promise<boolean> {
  const n = Math.floor(index / TILE_WIDTH)
  const width = Math.min(TILE_WIDTH, size - n * TILE_WIDTH)
  if (width <= 0) return false
  const bundle = await tree.read(staticPath('entries', n, width))
  if (bundle === undefined) return false
  try {
    const entry = parseEntryBundle(bundle, width)[index % TILE_WIDTH]
    return entry !== undefined && equalBytes(leafHash(entry), hash)
  } catch {
    return false
  }
}
