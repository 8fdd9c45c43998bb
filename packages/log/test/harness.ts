/**
 * Test harness for @scitt/log: keys, databases (memory-level and LevelDB in a temp dir), a fault
 * injecting database wrapper, a signer that records everything it signs, an independent RFC 9162
 * oracle, and the whole-log checker run after each step of the fault and crash tests.
 */
import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Level } from 'level'
import { MemoryLevel } from 'memory-level'
import {
  TILE_WIDTH, ed25519NoteSigner, ed25519NoteVerifier, equalBytes, leafHash, parseCheckpoint,
  parseEntryBundle, parseHashTile, receiptProtectedHeader, sha256Digest, toHex, utf8, verifyInclusion, verifyReceipt,
  type NoteSigner,
} from '@scitt/core'
import { nodeSignatures } from '@scitt/node-crypto'
import { Log, type LogDatabase, type LogFiles, type LogOptions } from '@scitt/log'

export const ORIGIN = 'example.com/test-log'
const LOG_SEED = sha256Digest(utf8('log test key'))
const RECEIPT_SEED = sha256Digest(utf8('log test receipt key'))

export const receiptSigner = nodeSignatures.signer('Ed25519', RECEIPT_SEED)
export const receiptVerifier = nodeSignatures.verifier('Ed25519', receiptSigner.publicKey)
export const noteVerifier = ed25519NoteVerifier(ORIGIN, nodeSignatures.signer('Ed25519', LOG_SEED).publicKey, nodeSignatures)
export const receiptProtected = receiptProtectedHeader({ alg: 'Ed25519', kid: utf8('receipt-key-1'), iss: 'https://ts.example' })

/** Every checkpoint text the log key ever signed, across instances: the "one size, one root" witness. */
export class SignatureRecord {
  readonly texts: string[] = []

  signer (origin = ORIGIN): NoteSigner {
    const inner = ed25519NoteSigner(origin, LOG_SEED, nodeSignatures)
    return {
      name: inner.name,
      keyId: inner.keyId,
      sign: (text) => {
        this.texts.push(new TextDecoder().decode(text))
        return inner.sign(text)
      },
    }
  }

  /** Throws when two signed checkpoints have one size and different roots. */
  assertOneRootPerSize (): void {
    const roots = new Map<number, string>()
    for (const text of this.texts) {
      const cp = parseCheckpoint(text)
      const root = toHex(cp.rootHash)
      const known = roots.get(cp.size)
      assert.ok(known === undefined || known === root, `size ${cp.size} was signed with roots ${known} and ${root}`)
      roots.set(cp.size, root)
    }
  }
}

/** Every test log's files go under one temporary directory, removed when the process exits. */
const filesRoot = mkdtempSync(join(tmpdir(), 'scitt-log-files-'))
process.once('exit', () => { rmSync(filesRoot, { recursive: true, force: true }) })
const filesOfDb = new WeakMap<object, LogFiles>()
let filesMade = 0

/** The files of the log in `db`: one directory pair per database, the same on every open (a restart). */
export function filesFor (db: object): LogFiles {
  let files = filesOfDb.get(db)
  if (files === undefined) {
    const dir = join(filesRoot, String(filesMade++))
    files = { dir: join(dir, 'tiles'), nodesDir: join(dir, 'nodes') }
    filesOfDb.set(db, files)
  }
  return files
}

/** The files of a log whose LevelDB is at `dir`, as a node lays them out (the same in every process). */
export function filesIn (dir: string): LogFiles {
  return { dir: join(dir, 'log'), nodesDir: join(dir, 'nodes', 'log') }
}

export function logOptions (db: LogDatabase, record: SignatureRecord, extra: Partial<LogOptions> = {}): LogOptions {
  return { db, files: filesFor(db), origin: ORIGIN, logSigner: record.signer(), receiptSigner, receiptProtected, batchAgeMs: 5, ...extra }
}

export function entryOf (label: string): Uint8Array {
  return utf8(`entry ${label}`)
}

export interface Backend {
  name: string
  /** A fresh, open, empty database. */
  create (): Promise<LogDatabase & { close (): Promise<void> }>
  /** Removes whatever `create` made. */
  cleanup (): Promise<void>
}

export function memoryBackend (): Backend {
  return {
    name: 'memory-level',
    async create () {
      const db = new MemoryLevel<Uint8Array, Uint8Array>({ keyEncoding: 'view', valueEncoding: 'view' })
      await db.open()
      return db
    },
    async cleanup () {},
  }
}

export function levelBackend (): Backend {
  const dirs: string[] = []
  const dbs: Array<{ close (): Promise<void> }> = []
  return {
    name: 'LevelDB',
    async create () {
      const dir = await mkdtemp(join(tmpdir(), 'scitt-log-'))
      dirs.push(dir)
      const db = new Level<Uint8Array, Uint8Array>(dir, { keyEncoding: 'view', valueEncoding: 'view' })
      await db.open()
      dbs.push(db)
      return db
    },
    async cleanup () {
      for (const db of dbs.splice(0)) await db.close().catch(() => {})
      for (const dir of dirs.splice(0)) await rm(dir, { recursive: true, force: true })
    },
  }
}

export type Fault = 'lost' | 'landed'

/**
 * Wraps a database: each injected fault makes one future `batch` fail, either without writing ('lost')
 * or after writing ('landed': a write that lands but reports failure), after `after` successful
 * batches. With `crash`, the process dies at that moment instead of seeing the failure: from then on
 * none of this view's calls reach the database or return (what was already written stays, as the OS
 * keeps it after a SIGKILL), and `died` resolves.
 */
export class FaultyDatabase {
  readonly db: LogDatabase
  readonly died: Promise<void>
  readonly #faults: Array<{ fault: Fault, after: number, crash: boolean }> = []
  #crashed = false
  #die!: () => void

  constructor (inner: LogDatabase) {
    this.died = new Promise((resolve) => { this.#die = resolve })
    const files = filesFor(inner)
    const hang = (): unknown => new Promise(() => {})
    this.db = new Proxy(inner, {
      get: (target, prop, receiver) => {
        if (this.#crashed) return prop === 'iterator' ? () => ({ nextv: hang, close: hang }) : hang
        if (prop === 'batch') return (ops: never, options: never) => this.#batch(target, ops, options)
        const value = Reflect.get(target, prop, receiver) as unknown
        return typeof value === 'function' ? value.bind(target) : value
      },
    })
    filesOfDb.set(this.db, files)
  }

  inject (fault: Fault, after = 0, crash = false): void {
    this.#faults.push({ fault, after, crash })
  }

  get crashed (): boolean {
    return this.#crashed
  }

  /** The process dies now. */
  crash (): void {
    this.#crashed = true
    this.#die()
  }

  async #batch (target: LogDatabase, ops: Parameters<LogDatabase['batch']>[0], options: Parameters<LogDatabase['batch']>[1]): Promise<void> {
    const next = this.#faults[0]
    if (next !== undefined && next.after > 0) next.after--
    else if (next !== undefined) {
      this.#faults.shift()
      if (next.fault === 'landed') await target.batch(ops, options)
      if (next.crash) {
        this.crash()
        return new Promise(() => {})
      }
      throw new Error(`injected fault: batch ${next.fault}`)
    }
    return target.batch(ops, options)
  }
}

/** RFC 9162 §2.1.1 leaf hash with node:crypto: the oracle shares no hashing code with the log. */
export function oracleLeafHash (entry: Uint8Array): Uint8Array {
  return createHash('sha256').update(Uint8Array.of(0)).update(entry).digest()
}

/** RFC 9162 §2.1.1 MTH by its definition over leaf hashes: independent of the log's compact range and tiles. */
export function mth (leaves: readonly Uint8Array[], start = 0, end = leaves.length): Uint8Array {
  const n = end - start
  if (n === 0) return createHash('sha256').digest()
  if (n === 1) return leaves[start]!
  let k = 1
  while (k * 2 < n) k *= 2
  return createHash('sha256').update(Uint8Array.of(1)).update(mth(leaves, start, start + k)).update(mth(leaves, start + k, end)).digest()
}

/** The leaf hashes of the log's first `size` entries, read from its C2SP entry bundles (full and partial). */
export async function leavesFromBundles (log: Log, size: number): Promise<Uint8Array[]> {
  const leaves: Uint8Array[] = []
  for (let n = 0; n * TILE_WIDTH < size; n++) {
    const width = Math.min(TILE_WIDTH, size - n * TILE_WIDTH)
    for (const entry of parseEntryBundle(await log.entryBundle(n, width), width)) leaves.push(oracleLeafHash(entry))
  }
  return leaves
}

/** Checks the log's C2SP hash tiles at `size` against the oracle: every hash of every tile. */
export async function checkTiles (log: Log, leaves: readonly Uint8Array[]): Promise<void> {
  const size = leaves.length
  for (let level = 0; TILE_WIDTH ** level <= size; level++) {
    const span = TILE_WIDTH ** level
    const nodes = Math.floor(size / span)
    for (let n = 0; n * TILE_WIDTH < nodes; n++) {
      const width = Math.min(TILE_WIDTH, nodes - n * TILE_WIDTH)
      const hashes = parseHashTile(await log.tile({ level, index: n, width }), width)
      hashes.forEach((h, i) => {
        const first = (n * TILE_WIDTH + i) * span
        assert.ok(equalBytes(h, mth(leaves, first, first + span)), `tile ${level}/${n} hash ${i}`)
      })
    }
  }
}

export interface Acknowledged {
  index: number
  entry: Uint8Array
}

/**
 * The whole-log checker: fsck passes; every checkpoint the log can serve for `sizes` equals the
 * oracle's root over the entries from its bundles; every acknowledged entry is at its index; no size
 * was ever signed with two roots; receipts and proofs verify.
 */
export async function checkLog (log: Log, acknowledged: Iterable<Acknowledged>, record: SignatureRecord, sizes: Iterable<number> = []): Promise<void> {
  const report = await log.fsck({ noteVerifiers: [noteVerifier], receiptVerifiers: [receiptVerifier] })
  assert.deepEqual(report.errors, [])
  assert.ok(report.ok)
  const latest = log.latestCheckpoint()!
  // After a failed write the stored state may be ahead of what is published, until the log reloads.
  assert.ok(report.latestCheckpoint! >= latest.size && report.size >= report.latestCheckpoint!)
  const leaves = await leavesFromBundles(log, latest.size)
  assert.ok(equalBytes(mth(leaves), latest.rootHash), 'latest root')
  for (const size of new Set([...sizes, latest.size])) {
    if (size > latest.size) continue
    const cp = await log.checkpointAt(size)
    assert.ok(equalBytes(cp.rootHash, mth(leaves, 0, size)), `root of signed size ${size}`)
  }
  for (const { index, entry } of acknowledged) {
    assert.ok(index < latest.size, `acknowledged ${index} is below ${latest.size}`)
    assert.ok(equalBytes(leaves[index]!, leafHash(entry)), `acknowledged entry at ${index}`)
    assert.equal(await log.indexOf(toHex(leafHash(entry))), index)
  }
  record.assertOneRootPerSize()
  if (latest.size > 0) {
    for (const index of [0, Math.floor(latest.size / 2), latest.size - 1]) {
      const proof = await log.inclusionProof(index, latest.size)
      verifyInclusion(index, latest.size, leaves[index]!, proof, latest.rootHash)
      const receipt = await log.receipt(index)
      const verified = verifyReceipt(receipt, { leafHash: leaves[index]! }, receiptVerifier)
      assert.ok(verified.treeSize > index && verified.treeSize <= latest.size, 'the receipt is at a signed size covering the entry')
      assert.ok(equalBytes(verified.rootHash, (await log.checkpointAt(verified.treeSize)).rootHash), 'and under that checkpoint\'s root')
    }
  }
}
