/**
 * The log's read path as files in one directory, in the exact C2SP tlog-tiles layout
 * (docs/spec-digest.md "tlog-tiles"): `checkpoint`, `tile/<L>/<N>[.p/<W>]` and
 * `tile/entries/<N>[.p/<W>]`. Pointing any static web server at the directory serves the whole read
 * path. Every file but `checkpoint` is written once at a path no committed state covers yet, and
 * made durable (the file, then the directories that gained a name) before the tree state that covers
 * it is committed; `checkpoint` is replaced atomically (write, fsync, rename) after its record is
 * committed. So after a crash the directory holds at most files beyond the committed state, which
 * `removeBeyond` deletes (docs/architecture.md "Invariants").
 */
import { dirname, join } from 'node:path'
import { TILE_WIDTH, entryBundlePath, tilePath } from '@scitt/core'
import type { LogFs } from './log-fs.js'

/** A file of the static tree: its path relative to the directory, and its bytes. */
export interface StaticFile {
  path: string
  bytes: Uint8Array
}

/** At most this many entries are appended by one write (a batch of the log or one mirror append). */
export const MAX_WRITE_ENTRIES = 65_536

export const CHECKPOINT_FILE = 'checkpoint'
/** A temporary `checkpoint` file: unique per write, so that two writers never rename each other's. */
const CHECKPOINT_TEMPORARY = /^checkpoint\.[0-9]+\.[0-9]+\.tmp$/
let temporaries = 0

/** The path of a hash tile (level ≥ 0) or, for level 'entries', an entry bundle, of `width`. */
export function staticPath (level: number | 'entries', index: number, width: number): string {
  return level === 'entries' ? entryBundlePath(index, width) : tilePath({ level, index, width })
}

export class StaticTree {
  readonly dir: string
  readonly #fs: LogFs
  readonly #sync: boolean
  /** Directories known to exist (created or seen by this instance). */
  readonly #dirs = new Set<string>()
  /** The checkpoint file write in progress, and the note to write after it. */
  #checkpointWrite: Promise<void> = Promise.resolve()
  #nextCheckpoint: string | undefined

  constructor (dir: string, fs: LogFs, sync: boolean) {
    this.dir = dir
    this.#fs = fs
    this.#sync = sync
  }

  /**
   * Writes new files and, with sync, makes them durable: each file, then each directory that gained a
   * file or a directory. Resolves only when all of it is done.
   */
  async write (files: readonly StaticFile[]): Promise<void> {
    const fs = this.#fs
    const touched = new Set<string>()
    await Promise.all(files.map(async ({ path, bytes }) => {
      const full = join(this.dir, path)
      const parent = dirname(full)
      if (!this.#dirs.has(parent)) {
        const created = await fs.mkdir(parent)
        this.#dirs.add(parent)
        // Every directory from the first one created down to the parent gained a name in its own parent.
        for (let d = parent; created !== undefined && d.length >= created.length; d = dirname(d)) touched.add(dirname(d))
      }
      await fs.writeFile(full, bytes)
      touched.add(parent)
    }))
    if (!this.#sync) return
    await Promise.all([...files.map(({ path }) => fs.sync(join(this.dir, path))), ...[...touched].map((d) => fs.sync(d))])
  }

  /** A file's bytes; undefined when it does not exist. */
  read (path: string): Promise<Uint8Array | undefined> {
    return this.#fs.readFile(join(this.dir, path))
  }

  /**
   * Replaces `checkpoint` with `note` (write a temporary file, fsync, rename). Writes are serialised
   * and coalesced: while one runs, only the latest note asked for is written after it.
   */
  replaceCheckpoint (note: string): Promise<void> {
    const pending = this.#nextCheckpoint !== undefined
    this.#nextCheckpoint = note
    if (pending) return this.#checkpointWrite
    this.#checkpointWrite = this.#checkpointWrite.then(async () => {
      const text = this.#nextCheckpoint!
      this.#nextCheckpoint = undefined
      const fs = this.#fs
      const temporary = join(this.dir, `${CHECKPOINT_FILE}.${process.pid}.${++temporaries}.tmp`)
      await fs.mkdir(this.dir)
      await fs.writeFile(temporary, new TextEncoder().encode(text))
      if (this.#sync) await fs.sync(temporary)
      await fs.rename(temporary, join(this.dir, CHECKPOINT_FILE))
      if (this.#sync) await fs.sync(this.dir)
    })
    return this.#checkpointWrite
  }

  /** Resolves when the checkpoint writes asked for so far are done (rejects with the last one's failure). */
  checkpointWritten (): Promise<void> {
    return this.#checkpointWrite
  }

  /**
   * The files (and partial directories) that a tree of `size` does not hold and that a write of at
   * most MAX_WRITE_ENTRIES entries past it could have made: full tiles and bundles from the first one
   * the tree does not hold in full, and partials wider than the tree's. Older partials are not listed.
   */
  async beyond (size: number): Promise<string[]> {
    /** Candidate names by directory. */
    const candidates = new Map<string, Set<string>>()
    const want = (path: string): void => {
      const dir = dirname(path)
      let names = candidates.get(dir)
      if (names === undefined) candidates.set(dir, names = new Set())
      names.add(path.slice(dir.length + 1))
    }
    const widths: Array<{ dir: string, width: number }> = []
    for (let level = 0; Math.floor((size + MAX_WRITE_ENTRIES) / TILE_WIDTH ** level) > 0; level++) {
      const nodes = Math.floor(size / TILE_WIDTH ** level)
      const full = Math.floor(nodes / TILE_WIDTH)
      const reach = Math.ceil(MAX_WRITE_ENTRIES / TILE_WIDTH ** (level + 1)) + 1
      for (const kind of level === 0 ? [0, 'entries' as const] : [level]) {
        for (let index = full; index < full + reach; index++) {
          const path = staticPath(kind, index, TILE_WIDTH)
          want(path)
          if (index > full) want(`${path}.p`)
        }
        widths.push({ dir: `${staticPath(kind, full, TILE_WIDTH)}.p`, width: nodes % TILE_WIDTH })
      }
    }
    const found: string[] = (await this.#fs.list(this.dir)).filter((name) => CHECKPOINT_TEMPORARY.test(name))
    await Promise.all([...candidates].map(async ([dir, names]) => {
      for (const name of await this.#fs.list(join(this.dir, dir))) if (names.has(name)) found.push(`${dir}/${name}`)
    }))
    await Promise.all(widths.map(async ({ dir, width }) => {
      for (const name of await this.#fs.list(join(this.dir, dir))) {
        if (!/^[0-9]+$/.test(name) || Number(name) > width) found.push(`${dir}/${name}`)
      }
    }))
    return found.sort()
  }

  /** Deletes what `beyond(size)` lists (after a crash: what no committed state covers). */
  async removeBeyond (size: number): Promise<void> {
    await Promise.all((await this.beyond(size)).map((path) => this.#fs.remove(join(this.dir, path))))
  }

  /** Replaces files atomically and durably (temporary file, fsync, rename, fsync of the directory): for repairs. */
  async rewrite (files: readonly StaticFile[]): Promise<void> {
    for (const { path, bytes } of files) {
      const full = join(this.dir, path)
      await this.#fs.mkdir(dirname(full))
      await this.#fs.writeFile(`${full}.tmp`, bytes)
      await this.#fs.sync(`${full}.tmp`)
      await this.#fs.rename(`${full}.tmp`, full)
      await this.#fs.sync(dirname(full))
    }
  }

  /** Deletes the partial versions of a tile (or bundle) that is now full; a failure leaves them (harmless). */
  async prunePartials (level: number | 'entries', index: number): Promise<void> {
    const dir = join(this.dir, `${staticPath(level, index, TILE_WIDTH)}.p`)
    this.#dirs.delete(dir)
    await this.#fs.remove(dir).catch(() => {})
  }
}
