/**
 * A durable, append-only transparency log (docs/architecture.md "Data flows"): its read path is a
 * C2SP tlog-tiles static tree of files (static-tree.ts) with the inner nodes of its full tiles beside
 * it (node-records.ts); an abstract-level database holds what is looked up or sequenced (layout.ts).
 * Entries are sequenced, then integrated in batches. Each integration
 *   1. writes the entry bundles and hash tiles that changed (full, and partial at the new size) and
 *      the node records of the tiles it filled, and makes them durable;
 *   2. commits one atomic database batch: the entry-id index and the new tree state (size and
 *      compact-range peaks) — the commit point;
 *   3. signs the checkpoint (C2SP tlog-checkpoint as a signed note) and the receipt seal for that size
 *      and writes them to the database, then replaces the `checkpoint` file;
 *   4. only then publishes the checkpoint to listeners and resolves the waiting `add` calls.
 * Under load, step 3's write is the next integration's step 2 (group commit, see #integrate). Every
 * write uses `sync` (default true), so "acknowledged" survives a power loss too. Files beyond the
 * committed tree state (a crash or failure before step 2) are deleted when the log (re)loads.
 *
 * One size, one root: the root of a size is on disk before it is signed; after any failed write the
 * log reloads its state from disk before it writes again, and a tree state ahead of the last
 * checkpoint (a crash or failure between steps 1 and 2) is signed as stored, never rebuilt.
 *
 * A mirror (`Log.openMirror`) holds another origin's log with the same machinery: entries are stored
 * only together with the origin's signed checkpoint whose root they reproduce; it never signs.
 */
import {
  EMPTY_ROOT, HASH_SIZE, MAX_ENTRY_SIZE, encodeEntryBundle, encodeHashTile, leafHash, ScittError, TILE_WIDTH, assembleReceipt, consistencyProof, decodeSeal, encodeSeal,
  equalBytes, formatNote, fromHex, inclusionProof, isArray, isScittError, openCheckpoint, sealCheckpoint,
  sigStructure, signCheckpoint, tileWidth, toHex,
  type NoteSigner, type NoteVerifier, type ReceiptSeal, type Signer, type TileId, type Verifier,
} from '@scitt/core'
import { last, type LogDatabase } from './database.js'
import {
  CHECKPOINT_RANGE, STATE_KEY, VIEW, copyBytes, decodeTreeState, checkpointKey, corrupt, decodeCheckpointRecord, decodeIndex, encodeCheckpointRecord,
  encodeIndex, idKey, sizeFromCheckpointKey, type CheckpointRecord,
} from './layout.js'
import { fsckFiles, type FsckOptions, type FsckReport } from './fsck.js'
import { diskFs, type LogFs } from './log-fs.js'
import { migrateLegacyLayout } from './migrate.js'
import { NodeRecords } from './node-records.js'
import { Sequencer, type Appended, type Pending } from './sequencer.js'
import { CHECKPOINT_FILE, MAX_WRITE_ENTRIES, StaticTree, staticPath } from './static-tree.js'
import { TileCache } from './tile-cache.js'
import { TreeEdge, type Extension, type Leaf, type Put } from './tree-edge.js'

/** Where a log keeps its files. */
export interface LogFiles {
  /** The C2SP static tree: `checkpoint`, `tile/…` (serve this directory for the whole read path). */
  dir: string
  /** The node records of its full tiles (not served). */
  nodesDir: string
  /** The file operations (default node:fs; tests inject faults). */
  fs?: LogFs
}

export interface LogOptions {
  /** An open abstract-level database holding only this log (use a sublevel to share one). */
  db: LogDatabase
  files: LogFiles
  /** The log's origin: checkpoint line 1, and the name of `logSigner`. */
  origin: string
  /** Signs checkpoints (C2SP signed note, Ed25519). */
  logSigner: NoteSigner
  /** Signs receipt seals (one per checkpoint). */
  receiptSigner: Signer
  /** The receipts' protected header (core's `receiptProtectedHeader`). */
  receiptProtected: Uint8Array
  /** Most entries per integration (default 256, at most 65 536). */
  batchSize?: number
  /** Longest an entry waits for its batch to fill, in ms (default 100). */
  batchAgeMs?: number
  /** Entries pending integration above which `add` fails with PUSHBACK (default 10 000). */
  maxPending?: number
  /** fsync every write (default true). */
  sync?: boolean
  /** Bytes of hash tile parts kept in memory for proofs (default 64 MiB: up to half for the upper tree, the rest for level-0 strips). */
  tileCacheBytes?: number
}

export interface MirrorOptions {
  db: LogDatabase
  files: LogFiles
  /** The mirrored log's origin. */
  origin: string
  /** The origin's log keys (all named after the origin): every stored checkpoint is signed by one of them. */
  verifiers: readonly NoteVerifier[]
  /**
   * The origin's receipt keys known now (asked at each append, so that a mirror follows a key change):
   * every stored checkpoint comes with a receipt seal that verifies over its root under one of them.
   */
  receiptVerifiers: () => readonly Verifier[]
  sync?: boolean
  tileCacheBytes?: number
}

/** A checkpoint the log has persisted (and, for its own log, signed). */
export interface PublishedCheckpoint {
  size: number
  rootHash: Uint8Array
  /** The signed note: checkpoint text, blank line, signature lines. */
  note: string
  /** The receipt seal for this size; undefined only in a mirror's records from before seals were required. */
  seal: ReceiptSeal | undefined
}

/** An origin's signed checkpoint and its receipt seal, as a mirror receives it (a missing seal is refused). */
export interface MirroredCheckpoint {
  note: string | Uint8Array
  seal: Uint8Array | ReceiptSeal | undefined
}

export type CheckpointListener = (checkpoint: PublishedCheckpoint) => void

interface Signing {
  logSigner: NoteSigner
  receiptSigner: Signer
  receiptProtected: Uint8Array
}

interface Mirroring {
  verifiers: readonly NoteVerifier[]
  receiptVerifiers: () => readonly Verifier[]
}

const ENTRY_ID = /^[0-9a-f]{64}$/
/** Full entry bundles read at once for `entryBundles`. */
const BUNDLE_READS = 16
const DEFAULT_TILE_CACHE_BYTES = 64 * 2 ** 20
/** Checkpoints kept in memory for receipts of recent entries. */
const RECENT_CHECKPOINTS = 64

export class Log {
  readonly origin: string
  readonly #db: LogDatabase
  readonly #tree: StaticTree
  readonly #records: NodeRecords
  readonly #sync: boolean
  readonly #signing: Signing | undefined
  readonly #mirroring: Mirroring | undefined
  readonly #tiles: TileCache
  readonly #sequencer: Sequencer | undefined
  readonly #listeners = new Set<CheckpointListener>()
  #waiters: Array<{ index: number, resolve: (cp: PublishedCheckpoint) => void }> = []
  #edge = TreeEdge.empty()
  #latest: PublishedCheckpoint | undefined
  /**
   * The last few persisted checkpoints, in size order, with no stored checkpoint between them: a
   * receipt for an entry at or above the first one's size finds its covering checkpoint here.
   */
  #recent: PublishedCheckpoint[] = []
  /** A signed checkpoint waiting to be written with the next integration, and the entries it acknowledges. */
  #carry: { record: CheckpointRecord, settle: Array<[Pending, number]> } | undefined
  /** Set by a failed write: the on-disk state is unknown until reloaded. */
  #broken: unknown
  #closed = false
  /** Serialises integration, mirror appends, recovery and fsck. */
  #lock: Promise<unknown> = Promise.resolve()

  private constructor (db: LogDatabase, files: LogFiles, origin: string, sync: boolean, tileCacheBytes: number, signing?: Signing,
    mirroring?: Mirroring, sequencing?: { batchSize: number, batchAgeMs: number, maxPending: number }) {
    this.#db = db
    this.origin = origin
    this.#sync = sync
    this.#signing = signing
    this.#mirroring = mirroring
    const fs = files.fs ?? diskFs
    this.#tree = new StaticTree(files.dir, fs, sync)
    this.#records = new NodeRecords(files.nodesDir, fs, sync)
    this.#tiles = new TileCache(this.#records, tileCacheBytes)
    if (sequencing !== undefined) {
      this.#sequencer = new Sequencer(sequencing, (batch) => this.#integrate(batch), async (hashes) => {
        const values = await db.getMany(hashes.map(idKey), VIEW)
        return values.map((v) => (v === undefined ? undefined : decodeIndex(v)))
      })
    }
  }

  /**
   * Opens (or creates) a log: loads the tree state, signs the empty tree on first use, and re-signs
   * the stored root when the tree state is ahead of the last checkpoint (a crash between the writes).
   */
  static async open (options: LogOptions): Promise<Log> {
    const { batchSize = 256, batchAgeMs = 100, maxPending = 10_000 } = options
    if (typeof options.origin !== 'string' || options.origin === '') throw new TypeError('origin must be a non-empty string')
    if (options.logSigner.name !== options.origin) throw new TypeError('the log signer\'s name must be the origin')
    for (const [name, value, min] of [['batchSize', batchSize, 1], ['batchAgeMs', batchAgeMs, 0], ['maxPending', maxPending, 1]] as const) {
      if (!Number.isSafeInteger(value) || value < min) throw new RangeError(`${name} must be an integer >= ${min}`)
    }
    if (batchSize > MAX_WRITE_ENTRIES) throw new RangeError(`batchSize must be at most ${MAX_WRITE_ENTRIES}`)
    checkFiles(options.files)
    const { logSigner, receiptSigner, receiptProtected } = options
    sealCheckpoint(receiptProtected, EMPTY_ROOT, receiptSigner) // fails early on a header that does not fit the signer
    const log = new Log(options.db, options.files, options.origin, options.sync ?? true, options.tileCacheBytes ?? DEFAULT_TILE_CACHE_BYTES,
      { logSigner, receiptSigner, receiptProtected }, undefined, { batchSize, batchAgeMs, maxPending })
    await log.#exclusive(() => log.#recover())
    return log
  }

  /** Opens (or creates) a mirror of another origin's log. */
  static async openMirror (options: MirrorOptions): Promise<Log> {
    if (options.verifiers.length === 0 || options.verifiers.some((v) => v.name !== options.origin)) throw new TypeError('the log keys must be named after the origin')
    checkFiles(options.files)
    const log = new Log(options.db, options.files, options.origin, options.sync ?? true, options.tileCacheBytes ?? DEFAULT_TILE_CACHE_BYTES,
      undefined, { verifiers: options.verifiers, receiptVerifiers: options.receiptVerifiers })
    await log.#exclusive(() => log.#recover())
    return log
  }

  get isMirror (): boolean {
    return this.#mirroring !== undefined
  }

  /** Entries added and not yet acknowledged or failed. */
  get pending (): number {
    return this.#sequencer?.pending ?? 0
  }

  /**
   * Appends an entry. Resolves with its leaf index and entry id once it is durable and covered by a
   * persisted checkpoint; an entry already in the log (or pending) resolves with its first index.
   * PUSHBACK when too many entries are pending; TOO_LARGE over 65 535 bytes (C2SP entry bundles);
   * INTERNAL when the integration's writes failed (the entry may or may not be in the log: add again).
   */
  add (entry: Uint8Array): Promise<Appended> {
    if (!(entry instanceof Uint8Array)) throw new TypeError('entry must be a Uint8Array')
    if (this.#sequencer === undefined) return Promise.reject(new ScittError('UNSUPPORTED', 'a mirror takes entries only with the origin\'s checkpoint'))
    if (this.#closed) return Promise.reject(new ScittError('INTERNAL', 'the log is closed'))
    if (entry.length > MAX_ENTRY_SIZE) return Promise.reject(new ScittError('TOO_LARGE', `entry of ${entry.length} bytes exceeds ${MAX_ENTRY_SIZE}`))
    return this.#sequencer.add(entry)
  }

  /** Resolves with the first published checkpoint that covers leaf `index`. */
  whenIntegrated (index: number): Promise<PublishedCheckpoint> {
    assertIndex(index, 'index')
    const latest = this.#latest
    if (latest !== undefined && index < latest.size) return Promise.resolve(latest)
    return new Promise((resolve) => this.#waiters.push({ index, resolve }))
  }

  /** Calls `listener` after each checkpoint is persisted. A listener that throws does not affect the log. Returns an unsubscribe function. */
  onCheckpoint (listener: CheckpointListener): () => void {
    this.#listeners.add(listener)
    return () => { this.#listeners.delete(listener) }
  }

  /** The latest persisted checkpoint; undefined only for an empty mirror. */
  latestCheckpoint (): PublishedCheckpoint | undefined {
    return this.#latest
  }

  /** The checkpoint the log persisted for `size`; NOT_FOUND for a size it has no checkpoint for. */
  async checkpointAt (size: number): Promise<PublishedCheckpoint> {
    assertIndex(size, 'size')
    const value = size <= this.#size() ? await this.#db.get(checkpointKey(size), VIEW) : undefined
    if (value === undefined) throw new ScittError('NOT_FOUND', `no checkpoint of size ${size}`)
    return published(decodeCheckpointRecord(size, value))
  }

  /**
   * The persisted checkpoints of sizes above `size`, in size order, at most `limit` (one range read):
   * what a mirror needs to store the log's history with every signed size.
   */
  async checkpointsAfter (size: number, limit: number): Promise<PublishedCheckpoint[]> {
    assertIndex(size, 'size')
    if (!Number.isSafeInteger(limit) || limit < 1) throw new RangeError('limit must be a positive integer')
    const it = this.#db.iterator({ gte: checkpointKey(size + 1), lt: CHECKPOINT_RANGE.lt, limit, ...VIEW })
    const out: PublishedCheckpoint[] = []
    try {
      // nextv may return fewer rows than asked (LevelDB fills it up to a byte budget).
      while (out.length < limit) {
        const rows = await it.nextv(limit - out.length)
        if (rows.length === 0) break
        for (const [key, value] of rows) out.push(published(decodeCheckpointRecord(sizeFromCheckpointKey(key), value)))
      }
      return out
    } finally {
      await it.close()
    }
  }

  /** The directory of the log's C2SP static tree (what a web server can serve). */
  get dir (): string {
    return this.#tree.dir
  }

  /**
   * C2SP hash tile L/N (width 256 = full, else `.p/W`). Served for any width that exists at the latest
   * checkpoint's size or below (a narrower one is a prefix of a wider one); NOT_FOUND beyond it.
   */
  async tile (tile: TileId): Promise<Uint8Array> {
    checkTile(tile)
    if (tileWidth(tile.level, tile.index, this.#size()) < tile.width) throw notFound(`tile ${tile.level}/${tile.index} of width ${tile.width}`)
    const partial = this.#edge.partialTile(tile.level)
    if (partial?.index === tile.index) return encodeHashTile(partial.nodes[0]!.slice(0, tile.width))
    const bytes = await this.#fullFile(tile.level, tile.index, TILE_WIDTH * HASH_SIZE)
    return copyBytes(bytes, 0, tile.width * HASH_SIZE)
  }

  /** C2SP entry bundle N with its first `width` entries (256 = full). */
  async entryBundle (index: number, width = TILE_WIDTH): Promise<Uint8Array> {
    checkTile({ level: 0, index, width })
    if (tileWidth(0, index, this.#size()) < width) throw notFound(`entry bundle ${index} of width ${width}`)
    return bundlePrefix(await this.#bundle(index), width)
  }

  /**
   * Full entry bundles `first` … `first + count − 1` in order: as many of them as the latest
   * checkpoint covers in full and as fit in `maxBytes` together (at least one); NOT_FOUND when bundle
   * `first` is not full yet.
   */
  async entryBundles (first: number, count: number, maxBytes: number): Promise<Uint8Array[]> {
    checkTile({ level: 0, index: first, width: TILE_WIDTH })
    if (!Number.isSafeInteger(count) || count < 1) throw new RangeError('count must be a positive integer')
    const full = Math.floor(this.#size() / TILE_WIDTH)
    if (first >= full) throw notFound(`full entry bundle ${first}`)
    const out: Uint8Array[] = []
    let bytes = 0
    // Read BUNDLE_READS at a time: a bundle is at most 16 MiB, an answer is bounded by maxBytes.
    for (let next = first; next < Math.min(first + count, full);) {
      const chunk = Array.from({ length: Math.min(BUNDLE_READS, first + count - next, full - next) }, (_, i) => next + i)
      next += chunk.length
      for (const stored of await Promise.all(chunk.map((n) => this.#fullFile('entries', n)))) {
        const bundle = bundlePrefix(stored, TILE_WIDTH)
        if (out.length > 0 && bytes + bundle.length > maxBytes) return out
        out.push(bundle)
        bytes += bundle.length
      }
    }
    return out
  }

  /** The entry at `index`; NOT_FOUND at or beyond the latest checkpoint's size. */
  async entry (index: number): Promise<Uint8Array> {
    assertIndex(index, 'index')
    if (index >= this.#size()) throw notFound(`entry ${index}`)
    const bytes = await this.#bundle(Math.floor(index / TILE_WIDTH))
    const at = index % TILE_WIDTH
    const start = entryOffset(bytes, at) + 2
    return copyBytes(bytes, start, start + bytes[start - 2]! * 256 + bytes[start - 1]!)
  }

  /** Entry bundle `index` as far as the tree holds it: the edge's partial one, else the full file. */
  async #bundle (index: number): Promise<Uint8Array> {
    const size = this.#edge.size
    if (index === Math.floor(size / TILE_WIDTH) && size % TILE_WIDTH > 0) return encodeEntryBundle(this.#edge.partialBundle())
    return this.#fullFile('entries', index)
  }

  /** The file of a full tile or bundle the tree holds; INTERNAL when it is missing (or not `length` bytes). */
  async #fullFile (level: number | 'entries', index: number, length?: number): Promise<Uint8Array> {
    const path = staticPath(level, index, TILE_WIDTH)
    const bytes = await this.#tree.read(path)
    if (bytes === undefined || (length !== undefined && bytes.length !== length)) throw corrupt(`file ${path} (${bytes === undefined ? 'missing' : 'wrong length'})`)
    return bytes
  }

  /** The first leaf index of an entry id (lowercase hex leaf hash), if it is covered by the latest checkpoint. */
  async indexOf (entryId: string): Promise<number | undefined> {
    if (typeof entryId !== 'string' || !ENTRY_ID.test(entryId)) throw new ScittError('MALFORMED', 'an entry id is 64 lowercase hex digits')
    const value = await this.#db.get(idKey(fromHex(entryId)), VIEW)
    if (value === undefined) return undefined
    const index = decodeIndex(value)
    return index < this.#size() ? index : undefined
  }

  /** RFC 9162 inclusion proof of leaf `index` in the tree of `size` (default: the latest checkpoint's). */
  async inclusionProof (index: number, size = this.#size()): Promise<Uint8Array[]> {
    assertIndex(index, 'index')
    assertIndex(size, 'size')
    if (size > this.#size() || index >= size) throw notFound(`inclusion proof of ${index} in size ${size}`)
    return inclusionProof(index, size, (ids) => this.#tiles.nodes(ids), this.#tiles)
  }

  /** RFC 9162 consistency proof between two tree sizes up to the latest checkpoint's. */
  async consistencyProof (size1: number, size2: number): Promise<Uint8Array[]> {
    assertIndex(size1, 'size1')
    assertIndex(size2, 'size2')
    if (size1 > size2 || size2 > this.#size()) throw notFound(`consistency proof from ${size1} to ${size2}`)
    return consistencyProof(size1, size2, (ids) => this.#tiles.nodes(ids), this.#tiles)
  }

  /**
   * A COSE receipt (RFC 9942) for an entry (by entry id or index): the seal of the first checkpoint
   * that covers it and an inclusion proof at that size. Every later request gets the same bytes.
   */
  async receipt (entry: string | number): Promise<Uint8Array> {
    const index = typeof entry === 'number' ? entry : await this.indexOf(entry)
    if (index === undefined) throw notFound(`entry ${String(entry)}`)
    assertIndex(index, 'index')
    if (index >= this.#size()) throw notFound(`entry ${index}`)
    const covering = this.#recentAbove(index) ?? await this.#firstCheckpointAbove(index)
    if (covering.seal === undefined) throw notFound(`receipt seal for size ${covering.size}`)
    const inclusionPath = await inclusionProof(index, covering.size, (ids) => this.#tiles.nodes(ids), this.#tiles)
    return assembleReceipt(covering.seal, { treeSize: covering.size, leafIndex: index, inclusionPath })
  }

  /** The checkpoint of the smallest signed size above `index`, if it is among the recent ones. */
  #recentAbove (index: number): PublishedCheckpoint | undefined {
    const recent = this.#recent
    for (let j = recent.length - 1; j > 0; j--) {
      if (recent[j - 1]!.size <= index) return recent[j]!.size > index ? recent[j] : undefined
    }
    return undefined
  }

  /** The checkpoint of the smallest signed size above `index` (one seek). */
  async #firstCheckpointAbove (index: number): Promise<PublishedCheckpoint> {
    const it = this.#db.iterator({ gte: checkpointKey(index + 1), lt: CHECKPOINT_RANGE.lt, limit: 1, ...VIEW })
    try {
      const row = (await it.nextv(1))[0]
      if (row === undefined) throw corrupt(`no checkpoint covers entry ${index}`)
      return published(decodeCheckpointRecord(sizeFromCheckpointKey(row[0]), row[1]))
    } finally {
      await it.close()
    }
  }

  /**
   * Mirror only: appends the origin's next entries with the origin's signed checkpoints for sizes they
   * reach, in size order, the last one exactly at the mirror's size plus the entries. Stored in one
   * atomic write only if every checkpoint verifies under one of the origin's log keys, the root
   * recomputed at each size equals its root, and each comes with a receipt seal that verifies over that
   * root. Only the log keys' verified signature lines are stored. Otherwise nothing changes:
   * UNKNOWN_ORIGIN / BAD_SIGNATURE / MALFORMED (checkpoint, or no seal), CONFLICT (sizes), BAD_PROOF
   * (root), TOO_LARGE (entry). Resolves with the last checkpoint.
   */
  async appendVerified (entries: readonly Uint8Array[], checkpoints: readonly MirroredCheckpoint[]): Promise<PublishedCheckpoint> {
    const mirroring = this.#mirroring
    if (mirroring === undefined) throw new ScittError('UNSUPPORTED', 'appendVerified is for mirrors')
    if (!isArray(entries) || !isArray(checkpoints)) throw new TypeError('entries and checkpoints must be arrays')
    if (checkpoints.length === 0) throw new TypeError('at least one checkpoint is needed')
    if (entries.length > MAX_WRITE_ENTRIES) throw new RangeError(`at most ${MAX_WRITE_ENTRIES} entries per append`)
    let bytes = 0
    for (const entry of entries) {
      if (!(entry instanceof Uint8Array)) throw new TypeError('entries must be Uint8Arrays')
      if (entry.length > MAX_ENTRY_SIZE) throw new ScittError('TOO_LARGE', `entry of ${entry.length} bytes exceeds ${MAX_ENTRY_SIZE}`)
      bytes += entry.length
    }
    // The log keeps its own copy of the entries, in one allocation.
    const copy = new Uint8Array(bytes)
    let at = 0
    const leaves: Leaf[] = entries.map((entry) => {
      copy.set(entry, at)
      at += entry.length
      return { entry: copy.subarray(at - entry.length, at), leafHash: leafHash(entry) }
    })
    const opened = checkpoints.map(({ note, seal }) => {
      const { checkpoint, note: parsed, verified } = openCheckpoint(note, mirroring.verifiers)
      if (seal === undefined) throw new ScittError('MALFORMED', `the checkpoint of size ${checkpoint.size} came without its receipt seal`)
      return { checkpoint, text: parsed.text, verified, seal: seal instanceof Uint8Array ? decodeSeal(seal) : seal }
    })
    return this.#exclusive(async () => {
      if (this.#closed) throw new ScittError('INTERNAL', 'the log is closed')
      if (this.#broken !== undefined) await this.#recover()
      const base = this.#edge.size
      if (opened.at(-1)!.checkpoint.size !== base + leaves.length) {
        throw new ScittError('CONFLICT', `checkpoint of size ${opened.at(-1)!.checkpoint.size} does not follow the mirror's size ${base} with ${leaves.length} entries`, {
          details: { size: base },
        })
      }
      const sizes = opened.map(({ checkpoint }) => checkpoint.size)
      if (sizes.some((size, i) => size <= (i === 0 ? base : sizes[i - 1]!))) {
        throw new ScittError('CONFLICT', `checkpoint sizes must increase from the mirror's size ${base}`, { details: { size: base } })
      }
      const extension = this.#edge.extend(leaves, sizes)
      const { roots } = extension
      const receiptVerifiers = mirroring.receiptVerifiers()
      const records = opened.map(({ checkpoint, text, verified, seal }, i): CheckpointRecord => {
        const rootHash = roots[i]!
        if (!equalBytes(rootHash, checkpoint.rootHash)) {
          throw new ScittError('BAD_PROOF', `the entries do not reproduce the root of ${this.origin} at size ${checkpoint.size}`, {
            details: { size: checkpoint.size, expected: toHex(checkpoint.rootHash), computed: toHex(rootHash) },
          })
        }
        const signed = sigStructure(seal.protectedBytes, rootHash)
        if (!receiptVerifiers.some((v) => v.verify(signed, seal.signature))) {
          throw new ScittError('BAD_SIGNATURE', `the receipt seal does not verify over the root of size ${checkpoint.size} under the origin's receipt keys`)
        }
        return { size: checkpoint.size, rootHash, note: formatNote({ text, signatures: verified }), seal: encodeSeal(seal) }
      })
      // A mirror indexes every entry without reading the index first: an entry its origin logged twice
      // is found at its latest occurrence (the last put of a key in a batch wins), whose receipt is as
      // valid as the first's.
      const ids = leaves.map((leaf, i): Put => ({ type: 'put', key: idKey(leaf.leafHash), value: encodeIndex(base + i) }))
      await this.#write([...extension.puts, ...ids, ...records.map(checkpointPut)], extension)
      this.#advance(extension)
      for (const record of records) this.#publish(record)
      this.#writeCheckpointFile(records.at(-1)!)
      return this.#latest!
    })
  }

  /**
   * Re-derives every root from the stored entries and checks it against every stored checkpoint, the
   * tree state, the tiles and the entry-id index (see fsck.ts). Integration waits while it runs.
   */
  async fsck (options: Omit<FsckOptions, 'origin' | 'unique'> = {}): Promise<FsckReport> {
    return this.#exclusive(() => fsckFiles(this.#db, { tree: this.#tree, records: this.#records }, {
      ...options,
      origin: this.origin,
      unique: this.#mirroring === undefined,
      ...(this.#mirroring !== undefined && options.noteVerifiers === undefined ? { noteVerifiers: this.#mirroring.verifiers } : {}),
    }))
  }

  /**
   * Integrates what is queued, then refuses further adds; waits for the checkpoint file and closes the
   * node records. The database stays open (it is the caller's).
   */
  async close (): Promise<void> {
    this.#closed = true
    await this.#sequencer?.drain()
    await this.#exclusive(async () => {
      await this.#tree.checkpointWritten().catch(() => {})
      await this.#records.close()
    })
  }

  #size (): number {
    return this.#latest?.size ?? 0
  }

  async #exclusive<T> (fn: () => Promise<T>): Promise<T> {
    const run = this.#lock.then(fn, fn)
    this.#lock = run.catch(() => {})
    return run
  }

  /**
   * The sequencer's integrator: settles every entry of the batch. Under load (a full batch already
   * queued) the signed checkpoint is not written on its own: it rides in the next integration's atomic
   * batch with the next tree state (group commit: one sync write per integration instead of two), and
   * its entries are acknowledged when that write lands. The order of durability is the same: a root is
   * stored before it is signed, and a checkpoint is stored before it is published.
   */
  async #integrate (batch: Pending[]): Promise<void> {
    await this.#exclusive(async () => {
      const carried = this.#carry
      this.#carry = undefined
      const settle: Array<[Pending, number]> = []
      try {
        if (this.#broken !== undefined) await this.#recover()
        const known = await Promise.all(batch.map((p) => p.known))
        const fresh = batch.filter((_, i) => known[i] === undefined)
        const base = this.#edge.size
        let next = base
        batch.forEach((p, i) => settle.push([p, known[i] ?? next++]))
        const puts: Put[] = []
        const step = fresh.length > 0 ? this.#edge.extend(fresh) : undefined
        if (step !== undefined) {
          puts.push(...step.puts)
          fresh.forEach((p, i) => puts.push({ type: 'put', key: idKey(p.leafHash), value: encodeIndex(base + i) }))
        }
        if (carried !== undefined) puts.push(checkpointPut(carried.record))
        if (puts.length > 0) await this.#write(puts, step)
        if (step !== undefined) this.#advance(step)
        if (carried !== undefined) this.#acknowledge(carried.record, carried.settle)
        if (step === undefined) {
          this.#acknowledge(undefined, settle)
          return
        }
        const { edge } = step
        const record = this.#signCheckpoint(edge.size, edge.range.root())
        if (this.#sequencer!.fullBatchQueued) {
          this.#carry = { record, settle }
          return
        }
        await this.#write([checkpointPut(record)])
        this.#acknowledge(record, settle)
      } catch (err) {
        const error = isScittError(err) ? err : new ScittError('INTERNAL', 'integration failed; the entries are not acknowledged', { cause: err })
        for (const p of [...(carried?.settle ?? []), ...settle]) p[0].reject(error)
      }
    })
  }

  /** Publishes a persisted checkpoint (if given), then resolves the entries it covers. */
  #acknowledge (record: CheckpointRecord | undefined, settle: Array<[Pending, number]>): void {
    if (record !== undefined) {
      this.#publish(record)
      this.#writeCheckpointFile(record)
    }
    for (const [p, index] of settle) {
      if (index >= this.#size()) throw new ScittError('INTERNAL', `entry ${p.entryId} at ${index} is not covered by the latest checkpoint`)
      p.resolve({ index, entryId: p.entryId })
    }
  }

  /**
   * Makes an extension's files and node records durable, then commits one atomic batch; a failure
   * leaves the on-disk state unknown, so the log must reload first.
   */
  async #write (puts: Put[], extension?: Extension): Promise<void> {
    try {
      if (extension !== undefined) await Promise.all([this.#tree.write(extension.files), this.#records.write(extension.records)])
      await this.#db.batch(puts, { ...VIEW, sync: this.#sync })
    } catch (err) {
      this.#broken = err
      // Reload (and sign a stored tail) as soon as the current operation ends, not only at the next one.
      void this.#exclusive(async () => { if (this.#broken !== undefined) await this.#recover() }).catch(() => {})
      throw new ScittError('INTERNAL', 'database write failed', { cause: err })
    }
  }

  /**
   * Adopts a committed extension: its edge, the tiles it filled in the cache, the right-edge subtrees
   * of its size; the partial files of the tiles it filled are deleted in the background.
   */
  #advance ({ edge, records, filled }: Extension): void {
    this.#edge = edge
    this.#tiles.setEdge(edge)
    this.#tiles.rememberPeaks(edge.size, edge.range.peaks)
    for (const { level, index, nodes } of records) this.#tiles.remember(level, index, nodes)
    for (const { level, index } of filled) void this.#tree.prunePartials(level, index)
  }

  /** Replaces the `checkpoint` file in the background; the database record is what recovery trusts. */
  #writeCheckpointFile (record: CheckpointRecord): void {
    this.#tree.replaceCheckpoint(record.note).catch(() => {
      // Rewritten from the database record when the log reloads.
    })
  }

  /** Signs the checkpoint and the receipt seal of a durably stored tree state. */
  #signCheckpoint (size: number, rootHash: Uint8Array): CheckpointRecord {
    const { logSigner, receiptSigner, receiptProtected } = this.#signing!
    const note = formatNote(signCheckpoint({ origin: this.origin, size, rootHash, extensions: [] }, logSigner))
    const seal = encodeSeal(sealCheckpoint(receiptProtected, rootHash, receiptSigner))
    return { size, rootHash, note, seal }
  }

  /**
   * (Re)loads the state from disk, as at start-up. Own log: signs the stored root when the tree state is
   * ahead of the last checkpoint (or the log is new); a checkpoint that disagrees with the stored tree
   * is INTERNAL and nothing is signed.
   */
  async #recover (): Promise<void> {
    this.#tiles.clear()
    await migrateLegacyLayout(this.#db, this.#tree, this.#records)
    await this.#tree.checkpointWritten().catch(() => {})
    const stored = await this.#db.get(STATE_KEY, VIEW)
    const size = stored === undefined ? 0 : decodeTreeState(stored).size
    await Promise.all([
      this.#tree.removeBeyond(size),
      this.#records.truncate((level) => Math.floor(size / TILE_WIDTH ** (level + 1))),
    ])
    const edge = await TreeEdge.load(this.#db, this.#tree)
    const row = await last(this.#db, CHECKPOINT_RANGE)
    let record = row === undefined ? undefined : decodeCheckpointRecord(sizeFromCheckpointKey(row[0]), row[1])
    const rootHash = edge.range.root()
    if (record !== undefined && (record.size > edge.size || (record.size === edge.size && !equalBytes(record.rootHash, rootHash)))) {
      throw new ScittError('INTERNAL', `stored checkpoint of size ${record.size} disagrees with the stored tree of size ${edge.size}`)
    }
    this.#edge = edge
    this.#tiles.setEdge(edge)
    this.#tiles.rememberPeaks(edge.size, edge.range.peaks)
    if (record === undefined || record.size < edge.size) {
      if (this.#signing !== undefined) {
        record = this.#signCheckpoint(edge.size, rootHash)
        await this.#write([checkpointPut(record)])
      }
      else if (edge.size > 0) throw new ScittError('INTERNAL', `mirror tree of size ${edge.size} has no checkpoint of that size`)
    }
    this.#broken = undefined
    // Checkpoints written by a failed write may be on disk without having been published.
    this.#recent = record === undefined ? [] : [published(record)]
    if (record !== undefined && record.size !== this.#latest?.size) this.#publish(record)
    // The file is a copy of the database's record: a failure here is repaired at the next write or open.
    if (record !== undefined) await this.#rewriteCheckpointFile(record).catch(() => {})
  }

  /** Makes the `checkpoint` file hold the latest stored checkpoint (after a crash it may lag or be missing). */
  async #rewriteCheckpointFile (record: CheckpointRecord): Promise<void> {
    const file = await this.#tree.read(CHECKPOINT_FILE)
    if (file === undefined || new TextDecoder().decode(file) !== record.note) await this.#tree.replaceCheckpoint(record.note)
  }

  #publish (record: CheckpointRecord): void {
    const checkpoint = published(record)
    this.#latest = checkpoint
    if (this.#recent.at(-1)?.size !== checkpoint.size) {
      this.#recent.push(checkpoint)
      if (this.#recent.length > RECENT_CHECKPOINTS) this.#recent.shift()
    }
    for (const listener of this.#listeners) {
      try {
        listener(checkpoint)
      } catch {
        // A listener's failure is its own; the checkpoint is persisted either way.
      }
    }
    const due = this.#waiters.filter((w) => w.index < checkpoint.size)
    this.#waiters = this.#waiters.filter((w) => w.index >= checkpoint.size)
    for (const w of due) w.resolve(checkpoint)
  }
}

function checkFiles (files: LogFiles): void {
  if (typeof files !== 'object' || files === null || typeof files.dir !== 'string' || files.dir === '' ||
    typeof files.nodesDir !== 'string' || files.nodesDir === '') throw new TypeError('files.dir and files.nodesDir must be non-empty paths')
}

function checkpointPut (record: CheckpointRecord): Put {
  return { type: 'put', key: checkpointKey(record.size), value: encodeCheckpointRecord(record) }
}

function published (record: CheckpointRecord): PublishedCheckpoint {
  return {
    size: record.size,
    rootHash: record.rootHash,
    note: record.note,
    seal: record.seal.length === 0 ? undefined : decodeSeal(record.seal),
  }
}

function assertIndex (value: unknown, name: string): asserts value is number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) throw new RangeError(`${name} must be a non-negative safe integer`)
}

function checkTile (tile: TileId): void {
  assertIndex(tile.level, 'tile level')
  assertIndex(tile.index, 'tile index')
  if (tile.level > 63) throw new RangeError('tile level must be 0..63')
  if (!Number.isInteger(tile.width) || tile.width < 1 || tile.width > TILE_WIDTH) throw new RangeError('tile width must be 1..256')
}

function notFound (what: string): ScittError {
  return new ScittError('NOT_FOUND', `no ${what} in this log`)
}

/** Byte offset of entry `at` in a bundle. */
function entryOffset (bundle: Uint8Array, at: number): number {
  let offset = 0
  for (let i = 0; i < at; i++) {
    if (offset + 2 > bundle.length) throw corrupt('entry bundle')
    offset += 2 + bundle[offset]! * 256 + bundle[offset + 1]!
  }
  if (offset + 2 > bundle.length) throw corrupt('entry bundle')
  return offset
}

/** The bundle of its first `width` entries (a copy). */
function bundlePrefix (bundle: Uint8Array, width: number): Uint8Array {
  const start = entryOffset(bundle, width - 1)
  const end = start + 2 + bundle[start]! * 256 + bundle[start + 1]!
  if (end > bundle.length) throw corrupt('entry bundle')
  return copyBytes(bundle, 0, end)
}
