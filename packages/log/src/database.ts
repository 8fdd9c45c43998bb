/**
 * The part of the abstract-level API the log uses. Any abstract-level 3 database fits (classic-level
 * through `level` on disk, memory-level in tests); every call passes 'view' key and value encodings,
 * so the database may be opened with any default encodings.
 */
import { VIEW } from './layout.js'

export type ViewOptions = typeof VIEW

export interface BatchPut {
  type: 'put'
  key: Uint8Array
  value: Uint8Array
}

export interface RangeOptions extends ViewOptions {
  gte?: Uint8Array
  lt?: Uint8Array
  reverse?: boolean
  limit?: number
}

export interface LogIterator {
  nextv (size: number): Promise<Array<[Uint8Array, Uint8Array]>>
  close (): Promise<void>
}

export interface LogDatabase {
  get (key: Uint8Array, options: ViewOptions): Promise<Uint8Array | undefined>
  getMany (keys: Uint8Array[], options: ViewOptions): Promise<Array<Uint8Array | undefined>>
  batch (operations: BatchPut[], options: ViewOptions & { sync: boolean }): Promise<void>
  iterator (options: RangeOptions): LogIterator
  /** Deletes every key of a range. */
  clear (options: ViewOptions & { gte: Uint8Array, lt: Uint8Array }): Promise<void>
}

/** Calls `visit` for each key/value in the range, in key order, reading `chunk` at a time. */
export async function scan (
  db: LogDatabase,
  range: { gte: Uint8Array, lt: Uint8Array },
  visit: (key: Uint8Array, value: Uint8Array) => void | Promise<void>,
  chunk = 64,
): Promise<void> {
  const it = db.iterator({ ...range, ...VIEW })
  try {
    for (;;) {
      const rows = await it.nextv(chunk)
      if (rows.length === 0) return
      for (const [key, value] of rows) await visit(key, value)
    }
  } finally {
    await it.close()
  }
}

/** The last key/value of a range, or undefined when it is empty. */
export async function last (db: LogDatabase, range: { gte: Uint8Array, lt: Uint8Array }): Promise<[Uint8Array, Uint8Array] | undefined> {
  const it = db.iterator({ ...range, ...VIEW, reverse: true, limit: 1 })
  try {
    return (await it.nextv(1))[0]
  } finally {
    await it.close()
  }
}

/**
 * The LevelDB (classic-level) options a log's database is opened with: binary keys and values, and a 64 MiB
 * write buffer (RocksDB's default; LevelDB's is 4 MiB), so that the entry-id index, whose keys are
 * random, reaches level 0 in fewer, larger files and is rewritten by compaction less often as the log
 * grows (README, Design).
 */
export const LEVELDB_OPTIONS = { keyEncoding: 'view', valueEncoding: 'view', writeBufferSize: 64 * 2 ** 20 } as const
