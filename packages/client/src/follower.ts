/**
 * A log follower (a monitor's core, after tessera's client): it remembers the last verified
 * checkpoint per origin and accepts a new one only if it is consistent with it (RFC 9162 §2.1.4),
 * proving consistency from the log's tiles (C2SP tlog-tiles). Checkpoints may come from several peers
 * serving one origin: they all meet the same remembered head, so a split view is caught too.
 *
 * Tiles are unsigned, so before a proof read from them counts, the tiles must reproduce the signed root
 * of the tree they are read at; tiles that do not are the server's fault (BAD_PROOF), not evidence.
 * Disagreement is INCONSISTENT with `details.evidence`: both signed notes, where they came from, and
 * the consistency proof (absent when two notes have one size and two roots: that pair is self-contained).
 * With `audit`, the follower also downloads every new entry bundle and recomputes the root from the
 * entries (a full audit, resumable from the stored compact range), reporting progress as it catches up.
 * Portable: state persistence is a `HeadStore` the caller gives (see state-file.ts for a JSON file).
 */
import {
  CompactRange, ScittError, TILE_WIDTH, checkCosignedCheckpoint, consistencyProof, equalBytes, foldRight, fromBase64, leafHash, openCheckpoint,
  parseEntryBundle, perfectSubtrees, toBase64, verifyConsistency,
  type Checkpoint, type NodeReader, type NoteVerifier, type Policy,
} from '@scitt/core'
import { fetchCheckpoint, fetchEntryBundle, type TileSource } from './fetch.js'
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
  /** The consistency proof read from the larger tree's tiles, when the sizes differ. */
  proof?: { size1: number, size2: number, hashes: string[] }
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

  /** BAD_PROOF unless the tiles of `source` reproduce the signed root of its tree of `size`. */
  async #checkTiles (source: TileSource, size: number, root: Uint8Array): Promise<NodeReader> {
    const reader = tileNodeReader(source, size, this.#options.readTile, this.#options.http)
    if (size === 0) return reader
    const peaks = await reader(perfectSubtrees(0, size))
    if (!equalBytes(foldRight(peaks)!, root)) {
      throw new ScittError('BAD_PROOF', `the tiles at ${source.nodeUrl} do not match its signed checkpoint of size ${size}`)
    }
    return reader
  }

  /**
   * Consistency between an older head and a newer tree head, proven from the newer tree's tiles:
   * INCONSISTENT with the evidence when the proof shows the trees disagree.
   */
  async #prove (older: Head, newer: Head, newerRoot: Uint8Array): Promise<void> {
    const reader = await this.#checkTiles(newer.source, newer.size, newerRoot)
    const proof = await consistencyProof(older.size, newer.size, reader)
    try {
      verifyConsistency(older.size, newer.size, fromBase64(older.rootHash), newerRoot, proof)
    } catch {
      throw inconsistent({
        origin: older.origin,
        reason: `the tree of size ${newer.size} does not extend the tree of size ${older.size}`,
        checkpoints: [older.note, newer.note],
        sources: [older.source, newer.source],
        proof: { size1: older.size, size2: newer.size, hashes: proof.map(toBase64) },
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
      if (entries.length < width) throw new ScittError('BAD_PROOF', `entry bundle ${bundle} from ${head.source.nodeUrl} holds ${entries.length} entries, expected ${width}`)
      for (let j = range.size - bundle * TILE_WIDTH; j < width; j++) range.append(leafHash(entries[j]!))
      this.#options.onProgress?.({ origin: head.origin, done: range.size - start, total: head.size - start })
    }
    if (!equalBytes(range.root(), root)) {
      throw new ScittError('BAD_PROOF', `the entries served by ${head.source.nodeUrl} do not reproduce the signed root of size ${head.size}`)
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
