/**
 * The mirror of one origin's log (docs/architecture.md "Data flows"): fetches the origin's signed
 * checkpoints above the mirror's size and the entry bundles they cover, from the origin or any peer
 * that holds the log, and stores them with Log.appendVerified, which recomputes the root at every
 * signed size. Chunks are bounded (entries and bytes; at most two in memory: the one being written
 * and the next, fetched meanwhile), so catch-up from zero runs in bounded memory, and every stored
 * chunk is durable with its checkpoints, so a restart resumes where it stopped.
 * A peer whose data does not reproduce the signed roots is recorded as bad and avoided for a while;
 * nothing of its answer is stored.
 */
import { ScittError, entryBundlePath, isScittError, parseCheckpoint, parseEntryBundle, parseEntryBundles, parseNote, TILE_WIDTH } from '@scitt/core'
import type { Log } from '@scitt/log'
import type { Logger } from '../logger.js'
import type { CheckpointMessage } from '../federation/wire.js'
import { decodeCheckpointList } from '../federation/log-data.js'
import type { MirrorMetrics } from './metrics.js'

/** Where the mirror's data comes from: the peers that may hold the origin's log, and one fetch. */
export interface MirrorSource {
  /** Peer ids, the origin's own first. */
  peers: (origin: string) => string[]
  /** The body of a log-data answer (federation/log-data.ts); NOT_FOUND when the peer refused. */
  fetch: (peer: string, origin: string, resource: string) => Promise<Uint8Array>
}

export interface MirrorOptions {
  origin: string
  /** The mirror log (Log.openMirror with the origin's log key and receipt key). */
  log: Log
  source: MirrorSource
  logger: Logger
  metrics?: MirrorMetrics
  /** True while the origin must not be followed (evidence of equivocation against it). */
  paused?: () => boolean
  /** Most entries stored per write (default 4096). */
  chunkEntries?: number
  /** Requests for entry bundles in flight at once (default 2). */
  concurrency?: number
  now?: () => number
}

/** Full entry bundles asked for in one request. */
const BUNDLES_PER_REQUEST = 16
/** A checkpoint further than this above the mirror's size is refused (memory bound of one chunk). */
const MAX_GAP = 16 * TILE_WIDTH * 4
/** Entry bytes held for one chunk at most. */
const MAX_CHUNK_BYTES = 64 * 1024 * 1024
/** How long a peer that sent bad data is avoided. */
const BAD_PEER_MS = 60_000
const PROGRESS_LOG_MS = 5_000

interface Chunk {
  checkpoints: CheckpointMessage[]
  /** The size the chunk's entries reach (its last checkpoint's). */
  end: number
  entries: Uint8Array[]
}

/** Errors that mean the peer's data is wrong (not merely missing or unreachable). */
const BAD_DATA = new Set(['MALFORMED', 'TOO_LARGE', 'BAD_PROOF', 'BAD_SIGNATURE', 'CONFLICT', 'UNKNOWN_ORIGIN', 'UNSUPPORTED'])

export interface BadPeer {
  peer: string
  error: string
  at: number
}

export class Mirror {
  readonly origin: string
  readonly log: Log
  readonly #o: MirrorOptions
  readonly #now: () => number
  readonly #bad = new Map<string, BadPeer>()
  #target = 0
  #running: Promise<void> | undefined
  #again = false
  #stopped = false
  #loggedAt = 0

  constructor (o: MirrorOptions) {
    this.#o = o
    this.origin = o.origin
    this.log = o.log
    this.#now = o.now ?? Date.now
    o.metrics?.size.set({ origin: o.origin }, this.size)
  }

  get size (): number {
    return this.log.latestCheckpoint()?.size ?? 0
  }

  /** The largest signed size of the origin seen so far (a trigger and a progress figure, not trusted data). */
  get target (): number {
    return Math.max(this.#target, this.size)
  }

  /** Peers recently caught sending data that did not match the origin's signed roots. */
  badPeers (): BadPeer[] {
    const now = this.#now()
    return [...this.#bad.values()].filter((b) => now - b.at < BAD_PEER_MS)
  }

  /** A head of the origin was seen: catch up to it (and beyond, if peers have more). */
  onHead (size: number): void {
    if (size > this.#target) {
      this.#target = size
      this.#o.metrics?.target.set({ origin: this.origin }, size)
    }
    if (size > this.size) this.sync()
  }

  /** Runs a catch-up round now, or once more after the one in progress. */
  sync (): void {
    if (this.#stopped) return
    this.#again = true
    this.#running ??= this.#run().finally(() => { this.#running = undefined })
  }

  /** Resolves when no catch-up is running (tests and shutdown). */
  async idle (): Promise<void> {
    while (this.#running !== undefined) await this.#running
  }

  async stop (): Promise<void> {
    this.#stopped = true
    await this.idle()
  }

  async #run (): Promise<void> {
    while (this.#again && !this.#stopped) {
      this.#again = false
      while (!this.#stopped && this.#o.paused?.() !== true && await this.#step());
    }
    if (this.size >= this.#target && this.#loggedAt !== 0) {
      this.#loggedAt = 0
      this.#o.logger.info({ origin: this.origin, size: this.size }, 'mirror caught up')
    }
  }

  /** Catches up from the first peer that has something new; false when none had. */
  async #step (): Promise<boolean> {
    const now = this.#now()
    for (const peer of this.#o.source.peers(this.origin)) {
      const bad = this.#bad.get(peer)
      if (bad !== undefined && now - bad.at < BAD_PEER_MS) continue
      if (this.#stopped) return false
      try {
        if (await this.#catchUpFrom(peer) > 0) return true
      } catch (err) {
        if (isScittError(err) && BAD_DATA.has(err.code)) {
          this.#bad.set(peer, { peer, error: `${err.code}: ${err.message}`.slice(0, 300), at: this.#now() })
          this.#o.metrics?.badData.inc({ origin: this.origin })
          this.#o.logger.warn({ origin: this.origin, peer, err: err.message, code: err.code }, 'mirror: peer sent data that does not match the origin\'s signed checkpoints; nothing of it is stored')
        } else {
          this.#o.logger.debug({ origin: this.origin, peer, err: (err as Error).message }, 'mirror: peer could not help')
        }
      }
    }
    return false
  }

  /**
   * Stores chunks from `peer` until it has nothing newer (or the mirror stops); the next chunk is
   * fetched while the current one is verified and written. Returns the entries stored.
   */
  async #catchUpFrom (peer: string): Promise<number> {
    const listed: CheckpointMessage[] = []
    const fetch = (from: number): Promise<Chunk | undefined> => {
      const chunk = this.#stopped || this.#o.paused?.() === true ? Promise.resolve(undefined) : this.#fetchChunk(peer, from, listed)
      chunk.catch(() => {}) // awaited below unless the chunk before it fails
      return chunk
    }
    let stored = 0
    for (let next = fetch(this.size); ;) {
      const chunk = await next
      if (chunk === undefined) return stored
      next = fetch(chunk.end)
      await this.log.appendVerified(chunk.entries, chunk.checkpoints)
      stored += chunk.entries.length
      this.#progress(chunk.entries.length)
    }
  }

  /**
   * The chunk after size `from`: the peer's next checkpoints (from `listed`, refilled by one request
   * when empty) up to `chunkEntries` entries on (at least one), and the entries they cover.
   * Undefined when the peer has no checkpoint above `from`.
   */
  async #fetchChunk (peer: string, from: number, listed: CheckpointMessage[]): Promise<Chunk | undefined> {
    while (listed.length > 0 && checkpointSize(listed[0]!.note) <= from) listed.shift()
    if (listed.length === 0) listed.push(...decodeCheckpointList(await this.#o.source.fetch(peer, this.origin, `checkpoints/${from}`)))
    if (listed.length === 0) return undefined
    const limit = this.#o.chunkEntries ?? 4096
    const checkpoints: CheckpointMessage[] = []
    let end = from
    while (listed.length > 0) {
      const size = checkpointSize(listed[0]!.note)
      if (size <= end) throw new ScittError('CONFLICT', `peer sent checkpoint sizes out of order (${size} after ${end})`)
      if (checkpoints.length > 0 && size - from > limit) break
      if (size - from > MAX_GAP) throw new ScittError('TOO_LARGE', `the next checkpoint (${size}) is more than ${MAX_GAP} entries ahead of ${from}`)
      checkpoints.push(listed.shift()!)
      end = size
    }
    return { checkpoints, end, entries: await this.#entries(peer, from, end) }
  }

  /**
   * Entries [from, to) from the peer's entry bundles: the full ones BUNDLES_PER_REQUEST per request
   * (`entry-bundles/<N>/<K>`, asked again from where an answer stopped), a partial last one alone.
   */
  async #entries (peer: string, from: number, to: number): Promise<Uint8Array[]> {
    const first = Math.floor(from / TILE_WIDTH)
    const last = Math.floor((to - 1) / TILE_WIDTH)
    const bundles = new Array<Uint8Array[]>(last - first + 1)
    let bytes = 0
    const fetch = async (resource: string): Promise<Uint8Array> => {
      const body = await this.#o.source.fetch(peer, this.origin, resource)
      bytes += body.length
      if (bytes > MAX_CHUNK_BYTES) throw new ScittError('TOO_LARGE', 'chunk of entry bundles too large')
      return body
    }
    /** Fetches bundles [index, end) into `bundles`. */
    const fetchRun = async (index: number, end: number): Promise<void> => {
      while (index < end) {
        const width = Math.min(TILE_WIDTH, to - index * TILE_WIDTH)
        if (width < TILE_WIDTH) {
          const bundle = parseEntryBundle(await fetch(entryBundlePath(index, width)), width)
          bundles[index++ - first] = bundle
          continue
        }
        const asked = Math.min(end, Math.floor(to / TILE_WIDTH)) - index // full at `to`: all but a partial last
        const count = Math.min(asked, BUNDLES_PER_REQUEST)
        for (const bundle of parseEntryBundles(await fetch(`entry-bundles/${index}/${count}`), count)) bundles[index++ - first] = bundle
      }
    }
    const runs: Array<Promise<void>> = []
    const perRun = Math.ceil((last - first + 1) / (this.#o.concurrency ?? 2))
    for (let index = first; index <= last; index += perRun) runs.push(fetchRun(index, Math.min(last + 1, index + perRun)))
    await Promise.all(runs)
    bundles[0] = bundles[0]!.slice(from - first * TILE_WIDTH)
    return bundles.flat()
  }

  #progress (stored: number): void {
    this.#o.metrics?.entries.inc({ origin: this.origin }, stored)
    this.#o.metrics?.size.set({ origin: this.origin }, this.size)
    const now = this.#now()
    if (now - this.#loggedAt >= PROGRESS_LOG_MS) {
      this.#loggedAt = now
      this.#o.logger.info({ origin: this.origin, size: this.size, target: this.target }, 'mirror catching up')
    }
  }

  statusJson (): unknown {
    return { origin: this.origin, size: this.size, target: this.target, badPeers: this.badPeers() }
  }
}

/** The size of a checkpoint note (its signatures are verified by appendVerified). */
function checkpointSize (note: string): number {
  return parseCheckpoint(parseNote(note).text).size
}
