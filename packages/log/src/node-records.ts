/**
 * The inner nodes of the log's full hash tiles, for proofs: per tile level L one file `<dir>/<L>` of
 * fixed-size records, record N holding full tile L/N as its nine parts (tile-parts.ts: strips 0–7,
 * then the crown, each at its full width). A proof reads one strip (≈ 2 KB) at a computed position,
 * through one open descriptor per level, and hashes nothing; the C2SP tile files (static-tree.ts)
 * hold only each tile's lowest row and are the public read path. Records are written before the tree
 * state that covers them is committed; after a crash `truncate` drops the ones beyond it.
 */
import { join } from 'node:path'
import { CROWN, STRIPS, encodePart, partByteLength, type TileNodes } from './tile-parts.js'
import { TILE_WIDTH } from '@scitt/core'
import type { LogFs } from './log-fs.js'

/** Bytes of each part of a full tile, and their offsets in a record. */
const PART_SIZES = Array.from({ length: STRIPS + 1 }, (_, part) => partByteLength(part, TILE_WIDTH))
const PART_OFFSETS = PART_SIZES.map((_, part) => PART_SIZES.slice(0, part).reduce((a, b) => a + b, 0))
export const RECORD_SIZE = PART_SIZES.reduce((a, b) => a + b, 0)

/** A full tile's inner nodes to store. */
export interface NodeRecord {
  level: number
  index: number
  nodes: TileNodes
}

export function encodeRecord (nodes: TileNodes): Uint8Array {
  if (nodes[0]!.length !== TILE_WIDTH) throw new RangeError('only full tiles have node records')
  const out = new Uint8Array(RECORD_SIZE)
  for (let part = 0; part <= CROWN; part++) out.set(encodePart(nodes, part), PART_OFFSETS[part])
  return out
}

function isLevelName (name: string): boolean {
  return /^(0|[1-9][0-9]?)$/.test(name)
}

export class NodeRecords {
  readonly #dir: string
  readonly #fs: LogFs
  readonly #sync: boolean
  /** Open descriptors by tile level. */
  readonly #fds = new Map<number, Promise<number>>()

  constructor (dir: string, fs: LogFs, sync: boolean) {
    this.#dir = dir
    this.#fs = fs
    this.#sync = sync
  }

  /** Writes the records (durably with sync): each level file, then the directory when a file is new. */
  async write (records: readonly NodeRecord[]): Promise<void> {
    const levels = new Set<number>()
    await Promise.all(records.map(async ({ level, index, nodes }) => {
      levels.add(level)
      await this.#fs.pwrite(await this.#fd(level), encodeRecord(nodes), index * RECORD_SIZE)
    }))
    if (this.#sync) await Promise.all([...levels].map(async (level) => { await this.#fs.datasync(await this.#fd(level)) }))
  }

  /** Part `part` of full tile (level, index) as stored; shorter than a part when it is not stored. */
  async readPart (level: number, index: number, part: number): Promise<Uint8Array> {
    return this.#fs.pread(await this.#fd(level), PART_SIZES[part]!, index * RECORD_SIZE + PART_OFFSETS[part]!)
  }

  /** The whole record of full tile (level, index), or fewer bytes when it is not stored. */
  async readRecord (level: number, index: number): Promise<Uint8Array> {
    return this.#fs.pread(await this.#fd(level), RECORD_SIZE, index * RECORD_SIZE)
  }

  /** Keeps only the records of the full tiles a tree holds (`full(level)` per level): drops the rest. */
  async truncate (full: (level: number) => number): Promise<void> {
    const names = await this.#fs.list(this.#dir)
    await Promise.all(names.filter(isLevelName).map(async (name) => {
      const level = Number(name)
      const fd = await this.#fd(level)
      const keep = full(level) * RECORD_SIZE
      if (await this.#fs.size(fd) > keep) {
        await this.#fs.truncate(fd, keep)
        if (this.#sync) await this.#fs.datasync(fd)
      }
    }))
  }

  /** The level files that hold records beyond the full tiles a tree holds, as "nodes/<L>: N records beyond". */
  async beyond (full: (level: number) => number): Promise<string[]> {
    const out: string[] = []
    for (const name of (await this.#fs.list(this.#dir)).filter(isLevelName)) {
      const extra = Math.ceil(await this.#fs.size(await this.#fd(Number(name))) / RECORD_SIZE) - full(Number(name))
      if (extra > 0) out.push(`node records of level ${name}: ${extra} beyond the tree`)
    }
    return out
  }

  async close (): Promise<void> {
    const fds = [...this.#fds.values()]
    this.#fds.clear()
    await Promise.all(fds.map(async (fd) => this.#fs.close(await fd).catch(() => {})))
  }

  #fd (level: number): Promise<number> {
    let fd = this.#fds.get(level)
    if (fd === undefined) {
      fd = (async () => {
        await this.#fs.mkdir(this.#dir)
        const path = join(this.#dir, String(level))
        const isNew = !(await this.#fs.list(this.#dir)).includes(String(level))
        const opened = await this.#fs.openRecords(path)
        if (isNew && this.#sync) await this.#fs.sync(this.#dir)
        return opened
      })()
      fd.catch(() => { if (this.#fds.get(level) === fd) this.#fds.delete(level) })
      this.#fds.set(level, fd)
    }
    return fd
  }
}
