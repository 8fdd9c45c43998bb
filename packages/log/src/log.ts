/**
 * A durable, append-only transparency log over an abstract-level database (docs/architecture.md "Data
 * flows"): entries are sequenced, then integrated in batches. Each integration
 *   1. writes one atomic batch: the entries (in C2SP entry bundles), the entry-id index, every hash
 *      tile that changed (full and partial) and the new tree state (size and compact-range peaks);
 *   2. signs the checkpoint (C2SP tlog-checkpoint as a signed note) and the receipt seal for that size
 *      and writes them;
 *   3. only then publishes the checkpoint to listeners and resolves the waiting `add` calls.
 * Under load, step 2's write is the next integration's step 1 (group commit, see #integrate). Every
 * write uses `sync` (default true), so "acknowledged" survives a power loss too.
 *
 * One size, one root: the root of a size is on disk before it is signed; after any failed write the
 * log reloads its state from disk before it writes again, and a tree state ahead of the last
 * checkpoint (a crash or failure between steps 1 and 2) is signed as stored, never rebuilt.
 *
 * A mirror (`Log.openMirror`) holds another origin's log with the same machinery: entries are stored
 * only together with the origin's signed checkpoint whose root they reproduce; it never signs.
 */
import {
  EMPTY_ROOT, MAX_ENTRY_SIZE, leafHash, ScittError, TILE_WIDTH, assembleReceipt, consistencyProof, decodeSeal, encodeSeal,
  equalBytes, formatNote, fromHex, inclusionProof, isArray, isScittError, openCheckpoint, sealCheckpoint,
  sigStructure, signCheckpoint, tileWidth, toHex,
  type NoteSigner, type NoteVerifier, type ReceiptSeal, type Signer, type TileId, type Verifier,
} from '@scitt/core'
import { last, type LogDatabase } from './database.js'
import {
  CHECKPOINT_RANGE, VIEW, bundleKey, copyBytes, checkpointKey, corrupt, decodeCheckpointRecord, decodeIndex, encodeCheckpointRecord,
  encodeIndex, idKey, sizeFromCheckpointKey, tileFromKey, type CheckpointRecord,
} from './layout.js'

import { fsck, type FsckOptions, type FsckReport } from './fsck.js'
import { Sequencer, type Appended, type Pending } from './sequencer.js'
import { TileCache } from './tile-cache.js'
import { CROWN, changedParts, partWidth, tileBytes } from './tile-parts.js'
import { TreeEdge, type Leaf, type Put } from './tree-edge.js'

export interface LogOptions {
  /** An open abstract-level database holding only this log (use a sublevel to share one). */
  db: LogDatabase
  /** The log's origin: checkpoint line 1, and the name of `logSigner`. */
  origin: string
  /** Signs checkpoints (C2SP signed note, Ed25519). */
  logSigner: NoteSigner
  /** Signs receipt seals (one per checkpoint). */
  receiptSigner: Signer
  /** The receipts' protected header (core's `receiptProtectedHeader`). */
  receiptProtected: Uint8Array
  /** Most entries per integration (default 256). */
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
const DEFAULT_TILE_CACHE_BYTES = 64 * 2 ** 20
/** Checkpoints kept in memory for receipts of recent entries. */
const RECENT_CHECKPOINTS = 64

export class Log {
  readonly origin: string
  readonly #db: LogDatabase
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

  private constructor (db: LogDatabase, origin: string, sync: boolean, tileCacheBytes: number, signing?: Signing, mirroring?: Mirroring,
    sequencing?: { batchSize: number, batchAgeMs: number, maxPending: number }) {
    this.#db = db
    this.origin = origin
    this.#sync = sync
    this.#signing = signing
    this.#mirroring = mirroring
    this.#tiles = new TileCache(db, tileCacheBytes)
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
    const { logSigner, receiptSigner, receiptProtected } = options
    sealCheckpoint(receiptProtected, EMPTY_ROOT, receiptSigner) // fails early on a header that does not fit the signer
    const log = new Log(options.db, options.origin, options.sync ?? true, options.tileCacheBytes ?? DEFAULT_TILE_CACHE_BYTES,
      { logSigner, receiptSigner, receiptProtected }, undefined, { batchSize, batchAgeMs, maxPending })
    await log.#exclusive(() => log.#recover())
    return log
  }

  /** Opens (or creates) a mirror of another origin's log. */
  static async openMirror (options: MirrorOptions): Promise<Log> {
    if (options.verifiers.length === 0 || options.verifiers.some((v) => v.name !== options.origin)) throw new TypeError('the log keys must be named after the origin')
    const log = new Log(options.db, options.origin, options.sync ?? true, options.tileCacheBytes ?? DEFAULT_TILE_CACHE_BYTES,
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

  /**
   * C2SP hash tile L/N (width 256 = full, else `.p/W`). Served for any width that exists at the latest
   * checkpoint's size or below; NOT_FOUND beyond it.
   */
  async tile (tile: TileId): Promise<Uint8Array> {
    checkTile(tile)
    if (tileWidth(tile.level, tile.index, this.#size()) < tile.width) throw notFound(`tile ${tile.level}/${tile.index} of width ${tile.width}`)
    const strips = changedParts(0, tile.width).filter((part) => part !== CROWN)
    const parts = await this.#tiles.parts(tile.level, tile.index, strips, strips.map((part) => partWidth(part, tile.width)))
    return tileBytes(parts, tile.width)
  }

  /** C2SP entry bundle N with its first `width` entries (256 = full). */
  async entryBundle (index: number, width = TILE_WIDTH): Promise<Uint8Array> {
    checkTile({ level: 0, index, width })
    if (tileWidth(0, index, this.#size()) < width) throw notFound(`entry bundle ${index} of width ${width}`)
    const bytes = await this.#db.get(bundleKey(index), VIEW)
    if (bytes === undefined) throw corrupt(`entry bundle ${index} (missing)`)
    return bundlePrefix(bytes, width)
  }

  /**
   * Full entry bundles `first` … `first + count − 1` in order, in one read: as many of them as the
   * latest checkpoint covers in full and as fit in `maxBytes` together (at least one); NOT_FOUND when
   * bundle `first` is not full yet.
   */
  async entryBundles (first: number, count: number, maxBytes: number): Promise<Uint8Array[]> {
    checkTile({ level: 0, index: first, width: TILE_WIDTH })
    if (!Number.isSafeInteger(count) || count < 1) throw new RangeError('count must be a positive integer')
    const full = Math.floor(this.#size() / TILE_WIDTH)
    if (first >= full) throw notFound(`full entry bundle ${first}`)
    const keys = Array.from({ length: Math.min(count, full - first) }, (_, i) => bundleKey(first + i))
    const values = await this.#db.getMany(keys, VIEW)
    const out: Uint8Array[] = []
    let bytes = 0
    for (let i = 0; i < values.length; i++) {
      const value = values[i]
      if (value === undefined) throw corrupt(`entry bundle ${first + i} (missing)`)
      const bundle = bundlePrefix(value, TILE_WIDTH)
      if (out.length > 0 && bytes + bundle.length > maxBytes) break
      out.push(bundle)
      bytes += bundle.length
    }
    return out
  }

  /** The entry at `index`; NOT_FOUND at or beyond the latest checkpoint's size. */
  async entry (index: number): Promise<Uint8Array> {
    assertIndex(index, 'index')
    if (index >= this.#size()) throw notFound(`entry ${index}`)
    const bytes = await this.#db.get(bundleKey(Math.floor(index / TILE_WIDTH)), VIEW)
    if (bytes === undefined) throw corrupt(`entry bundle of entry ${index} (missing)`)
    const at = index % TILE_WIDTH
    const start = entryOffset(bytes, at) + 2
    return copyBytes(bytes, start, start + bytes[start - 2]! * 256 + bytes[start - 1]!)
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
      const { edge, puts, roots } = this.#edge.extend(leaves, sizes)
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
      const writes = [...puts, ...ids, ...records.map(checkpointPut)]
      await this.#write(writes)
      this.#advance(edge, writes)
      for (const record of records) this.#publish(record)
      return this.#latest!
    })
  }

  /**
   * Re-derives every root from the stored entries and checks it against every stored checkpoint, the
   * tree state, the tiles and the entry-id index (see fsck.ts). Integration waits while it runs.
   */
  async fsck (options: Omit<FsckOptions, 'origin' | 'unique'> = {}): Promise<FsckReport> {
    return this.#exclusive(() => fsck(this.#db, {
      ...options,
      origin: this.origin,
      unique: this.#mirroring === undefined,
      ...(this.#mirroring !== undefined && options.noteVerifiers === undefined ? { noteVerifiers: this.#mirroring.verifiers } : {}),
    }))
  }

  /** Integrates what is queued, then refuses further adds. The database stays open (it is the caller's). */
  async close (): Promise<void> {
    this.#closed = true
    await this.#sequencer?.drain()
    await this.#exclusive(async () => {})
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
        if (puts.length > 0) await this.#write(puts)
        if (carried !== undefined) this.#acknowledge(carried.record, carried.settle)
        if (step === undefined) {
          this.#acknowledge(undefined, settle)
          return
        }
        const { edge } = step
        this.#advance(edge, puts)
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
    if (record !== undefined) this.#publish(record)
    for (const [p, index] of settle) {
      if (index >= this.#size()) throw new ScittError('INTERNAL', `entry ${p.entryId} at ${index} is not covered by the latest checkpoint`)
      p.resolve({ index, entryId: p.entryId })
    }
  }

  /** Writes one atomic batch; a failure leaves the on-disk state unknown, so the log must reload first. */
  async #write (puts: Put[]): Promise<void> {
    try {
      await this.#db.batch(puts, { ...VIEW, sync: this.#sync })
    } catch (err) {
      this.#broken = err
      // Reload (and sign a stored tail) as soon as the current operation ends, not only at the next one.
      void this.#exclusive(async () => { if (this.#broken !== undefined) await this.#recover() }).catch(() => {})
      throw new ScittError('INTERNAL', 'database write failed', { cause: err })
    }
  }

  /** Adopts a durably written edge, caches the tiles it wrote and the right-edge subtrees of its size. */
  #advance (edge: TreeEdge, puts: readonly Put[]): void {
    this.#edge = edge
    this.#tiles.rememberPeaks(edge.size, edge.range.peaks)
    for (const { key, value } of puts) {
      const tile = tileFromKey(key)
      if (tile !== undefined) this.#tiles.set(tile.level, tile.index, tile.part, value)
    }
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
    const edge = await TreeEdge.load(this.#db)
    const row = await last(this.#db, CHECKPOINT_RANGE)
    let record = row === undefined ? undefined : decodeCheckpointRecord(sizeFromCheckpointKey(row[0]), row[1])
    const rootHash = edge.range.root()
    if (record !== undefined && (record.size > edge.size || (record.size === edge.size && !equalBytes(record.rootHash, rootHash)))) {
      throw new ScittError('INTERNAL', `stored checkpoint of size ${record.size} disagrees with the stored tree of size ${edge.size}`)
    }
    this.#edge = edge
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
