/**
 * A log follower (a monitor's core, after tessera's client): it remembers the last verified
 * checkpoint per origin and accepts a new one only if it is consistent with it (RFC 9162 §2.1.4),
 * proving consistency from the log's tiles (C2SP tlog-tiles). Checkpoints may come from several peers
 * serving one origin: they all meet the same remembered head, so a split view is caught too.
 *
 * Tiles are unsigned, so before a proof read from them counts, it must reproduce the signed root of the
 * tree it is read at (RFC 9162 §2.1.4.2); a proof that does not is the server's fault (BAD_PROOF, naming
 * the source in the message and `details.source`), never evidence. INCONSISTENT (with `details.evidence`:
 * both signed notes, where they came from, and the proof) only when the log's own signed data conflicts:
 * two notes with one size and two roots (a self-contained pair, no proof), or a proof that reproduces the
 * newer signed root but not the older one.
 * With `audit`, the follower also downloads every new entry bundle and recomputes the root from the
 * entries (a full audit, resumable from the stored compact range), reporting progress as it catches up.
 * Portable: state persistence is a `HeadStore` the caller gives (see state-file.ts for a JSON file).
 */
import {
  CompactRange, EMPTY_ROOT, ScittError, TILE_WIDTH, checkCosignedCheckpoint, consistencyProof, equalBytes, foldRight, fromBase64, isScittError, leafHash,
  openCheckpoint, parseEntryBundle, perfectSubtrees, toBase64, verifyConsistency,
  type Checkpoint, type NodeReader, type NoteVerifier, type Policy, type TileId,
} from '@scitt/core'
import { fetchCheckpoint, fetchEntryBundle, fetchTile, type TileSource } from './fetch.js'
import type { HttpOptions } from './http.js'
import { tileNodeReader, type TileReader } from './tile-proofs.js'

/** What the follower remembers per origin: the latest verified checkpoint. */
export interface Head {
  origin: string
  size: number
  /** base64 root hash. */
  rootHash: string
  /** The signed note verbatim. */
  note: string
  /** Where it came from (a node URL and tile prefix). */
  source: TileSource
  /** With audit: how far the entries were replayed, and the compact range there (base64 peaks). */
  audited?: { size: number, peaks: string[] }
}

export interface HeadStore {
  load (): Promise<Head[]>
  save (heads: Head[]): Promise<void>
}

export interface Evidence {
  origin: string
  reason: string
  /** The two signed notes that disagree, older (or first seen) first. */
  checkpoints: [string, string]
  sources: [TileSource, TileSource]
  /**
   * The consistency proof read from the larger tree's tiles, when the sizes differ: `hashes` is
   * PROOF(size1, D[0:size2]) (RFC 9162 §2.1.4.1) and `root1` (base64) the root of size1 that the larger
   * tree holds. `verifyConsistency(size1, size2, root1, root2, hashes)` passes with the larger note's
   * root, so the proof is the log's; with the smaller note's root in place of `root1` it fails.
   */
  proof?: { size1: number, size2: number, hashes: string[], root1: string }
}

export type FollowEvent =
  | { type: 'new', origin: string, size: number, source: TileSource }
  | { type: 'advanced', origin: string, from: number, to: number, source: TileSource }
  | { type: 'same', origin: string, size: number, source: TileSource }
  | { type: 'behind', origin: string, size: number, head: number, source: TileSource }

export interface FollowerOptions {
  /** Checkpoints must satisfy this policy (log key and witness quorum). */
  policy?: Policy
  /** Or be signed by one of these log keys. */
  logVerifiers?: readonly NoteVerifier[]
  store?: HeadStore
  /** Reads a hash tile from a source (default: fetchTile over HTTP). */
  readTile?: TileReader
  http?: HttpOptions
  /** POSIX seconds, for the policy's cosignature timestamps. */
  now?: () => number
  /** Replay every entry (entry bundles) and recompute the root of each new head. */
  audit?: boolean
  /** Reads an entry bundle (default: fetchEntryBundle over HTTP). */
  readEntryBundle?: (source: TileSource, index: number, width: number) => Promise<Uint8Array>
  /** Called as an audit catches up, after each entry bundle. */
  onProgress?: (progress: { origin: string, done: number, total: number }) => void
}

function inconsistent (evidence: Evidence): ScittError {
  return new ScittError('INCONSISTENT', `split view of ${evidence.origin}: ${evidence.reason}`, { details: { evidence } })
}

/** `nodeUrl` and prefix of a tile source, as a URL to name it by. */
export function sourceUrl (source: TileSource): string {
  return `${source.nodeUrl}${source.prefix ?? ''}`
}

/** BAD_PROOF blaming `source`: what it served does not match what the log signed. */
function badSource (source: TileSource, message: string): ScittError {
  return new ScittError('BAD_PROOF', `${message} (served by ${sourceUrl(source)})`, { details: { source } })
}

/** A TileReader that fetches each tile once (the tiles of one tree, read by several plans). */
function onceEach (read: TileReader): TileReader {
  const seen = new Map<string, Promise<Uint8Array>>()
  return async (source, tile) => {
    const key = `${tile.level}/${tile.index}/${tile.width}`
    let bytes = seen.get(key)
    if (bytes === undefined) seen.set(key, bytes = read(source, tile))
    return bytes
  }
}

export class LogFollower {
  readonly #heads = new Map<string, Head>()
  readonly #options: FollowerOptions
  #loaded = false
  #tail: Promise<unknown> = Promise.resolve()

  constructor (options: FollowerOptions) {
    if (options.policy === undefined && (options.logVerifiers ?? []).length === 0) throw new TypeError('a follower needs a policy or log verifiers')
    this.#options = options
  }

  /** The remembered heads. */
  heads (): Head[] {
    return [...this.#heads.values()]
  }

  async #load (): Promise<void> {
    if (this.#loaded) return
    for (const head of await this.#options.store?.load() ?? []) this.#heads.set(head.origin, head)
    this.#loaded = true
  }

  #open (note: string): Checkpoint {
    const { policy, logVerifiers = [] } = this.#options
    if (policy !== undefined) return checkCosignedCheckpoint(policy, note, this.#options.now?.()).checkpoint
    let last: unknown
    for (const verifier of logVerifiers) {
      try {
        return openCheckpoint(note, verifier).checkpoint
      } catch (err) {
        last = err
      }
    }
    throw last
  }

  /** The TileReader of the options (default: fetchTile over HTTP), fetching each tile once. */
  #tileReader (): TileReader {
    const { readTile, http } = this.#options
    return onceEach(readTile ?? (async (s: TileSource, t: TileId) => fetchTile(s, t, http)))
  }

  /** BAD_PROOF unless the tiles of `source` reproduce the signed root of its tree of `size`. */
  async #checkTiles (source: TileSource, size: number, root: Uint8Array, readTile = this.#tileReader()): Promise<NodeReader> {
    const reader = tileNodeReader(source, size, readTile)
    if (size === 0) return reader
    const peaks = await reader(perfectSubtrees(0, size))
    if (!equalBytes(foldRight(peaks)!, root)) {
      throw badSource(source, `the tiles do not reproduce the signed root of size ${size}`)
    }
    return reader
  }

  /**
   * Consistency between an older head and a newer tree head (RFC 9162 §2.1.4), from the newer tree's
   * tiles: PROOF(size1, D[0:size2]) and the root of size1 that the newer tree holds (the fold of its
   * perfect subtrees over [0, size1)). Unless together they reproduce the newer signed root, the tiles
   * are not the log's: BAD_PROOF naming their source. When they do, the newer signed tree commits to that
   * root of size1; if it is not the older signed root, the log signed both: INCONSISTENT with the evidence.
   */
  async #prove (older: Head, newer: Head, newerRoot: Uint8Array): Promise<void> {
    const reader = await this.#checkTiles(newer.source, newer.size, newerRoot)
    const proof = await consistencyProof(older.size, newer.size, reader)
    const held = older.size === 0 ? EMPTY_ROOT : foldRight(await reader(perfectSubtrees(0, older.size)))!
    try {
      verifyConsistency(older.size, newer.size, held, newerRoot, proof)
    } catch (err) {
      if (!isScittError(err, 'BAD_PROOF')) throw err
      throw badSource(newer.source, `the consistency proof ${older.size} → ${newer.size} read from the tiles does not reproduce the signed root of size ${newer.size}`)
    }
    if (!equalBytes(held, fromBase64(older.rootHash))) {
      throw inconsistent({
        origin: older.origin,
        reason: `the tree of size ${newer.size} does not extend the tree of size ${older.size}`,
        checkpoints: [older.note, newer.note],
        sources: [older.source, newer.source],
        proof: { size1: older.size, size2: newer.size, hashes: proof.map(toBase64), root1: toBase64(held) },
      })
    }
  }

  /**
   * Replays the entries from the last audited size up to `head` and checks they give its signed root;
   * BAD_PROOF (the server's fault) otherwise. Returns the new audit state.
   */
  async #audit (head: Head, from: Head['audited'], root: Uint8Array): Promise<NonNullable<Head['audited']>> {
    const read = this.#options.readEntryBundle ?? (async (s: TileSource, i: number, w: number) => fetchEntryBundle(s, i, w, this.#options.http))
    const range = from === undefined ? CompactRange.empty() : CompactRange.fromPeaks(from.size, from.peaks.map(fromBase64))
    const start = range.size
    for (let bundle = Math.floor(start / TILE_WIDTH); bundle * TILE_WIDTH < head.size; bundle++) {
      const width = Math.min(TILE_WIDTH, head.size - bundle * TILE_WIDTH)
      const entries = parseEntryBundle(await read(head.source, bundle, width))
      if (entries.length < width) throw badSource(head.source, `entry bundle ${bundle} holds ${entries.length} entries, expected ${width}`)
      for (let j = range.size - bundle * TILE_WIDTH; j < width; j++) range.append(leafHash(entries[j]!))
      this.#options.onProgress?.({ origin: head.origin, done: range.size - start, total: head.size - start })
    }
    if (!equalBytes(range.root(), root)) {
      throw badSource(head.source, `the entries do not reproduce the signed root of size ${head.size}`)
    }
    return { size: head.size, peaks: range.peaks.map(toBase64) }
  }

  /**
   * Takes a signed checkpoint note served by `source`: verifies it (policy or log keys), then checks it
   * against the head remembered for its origin, and moves the head forward when it is larger. Calls
   * are serialized.
   */
  async update (note: string, source: TileSource): Promise<FollowEvent> {
    const run = this.#tail.then(async () => this.#update(note, source))
    this.#tail = run.catch(() => {})
    return run
  }

  async #update (note: string, source: TileSource): Promise<FollowEvent> {
    await this.#load()
    const checkpoint = this.#open(note)
    const { origin, size, rootHash } = checkpoint
    const incoming: Head = { origin, size, rootHash: toBase64(rootHash), note, source }
    const head = this.#heads.get(origin)
    if (head === undefined) {
      await this.#checkTiles(source, size, rootHash)
      if (this.#options.audit === true) incoming.audited = await this.#audit(incoming, undefined, rootHash)
      await this.#remember(incoming)
      return { type: 'new', origin, size, source }
    }
    if (size === head.size) {
      if (incoming.rootHash !== head.rootHash) {
        throw inconsistent({ origin, reason: `two roots for tree size ${size}`, checkpoints: [head.note, note], sources: [head.source, source] })
      }
      return { type: 'same', origin, size, source }
    }
    if (size > head.size) {
      await this.#prove(head, incoming, rootHash)
      if (this.#options.audit === true) incoming.audited = await this.#audit(incoming, head.audited, rootHash)
      await this.#remember(incoming)
      return { type: 'advanced', origin, from: head.size, to: size, source }
    }
    await this.#prove(incoming, head, fromBase64(head.rootHash))
    return { type: 'behind', origin, size, head: head.size, source }
  }

  /** Fetches a node's checkpoint (its own log, or a mirrored one with `prefix`) and takes it. */
  async poll (source: TileSource): Promise<FollowEvent> {
    return this.update(await fetchCheckpoint(source, this.#options.http), source)
  }

  async #remember (head: Head): Promise<void> {
    this.#heads.set(head.origin, head)
    await this.#options.store?.save(this.heads())
  }
}
