/**
 * The file operations the log's files (static-tree.ts, node-records.ts) are written and read with,
 * as one small interface so that tests can inject faults and crashes between any two of them. `diskFs`
 * is node:fs; reads by position use the callback API (a third of the cost of FileHandle's per read).
 */
import { close, constants, fdatasync, fstat, ftruncate, open, read, write } from 'node:fs'
import { mkdir, readFile, readdir, rename, rm, open as openFile } from 'node:fs/promises'

export interface LogFs {
  /** mkdir -p; resolves with the first directory it created (undefined when all existed). */
  mkdir (path: string): Promise<string | undefined>
  /** Creates or truncates `path` and writes `bytes` (not synced). */
  writeFile (path: string, bytes: Uint8Array): Promise<void>
  /** fsync of a file or a directory by path. */
  sync (path: string): Promise<void>
  rename (from: string, to: string): Promise<void>
  /** rm -rf. */
  remove (path: string): Promise<void>
  /** The file's bytes; undefined when it does not exist. */
  readFile (path: string): Promise<Uint8Array | undefined>
  /** The names in a directory; [] when it does not exist. */
  list (path: string): Promise<string[]>
  /** Opens (creating) a file for positioned reads and writes; resolves with its descriptor. */
  openRecords (path: string): Promise<number>
  pwrite (fd: number, bytes: Uint8Array, position: number): Promise<void>
  /** Exactly `length` bytes at `position`; fewer only at the end of the file. */
  pread (fd: number, length: number, position: number): Promise<Uint8Array>
  datasync (fd: number): Promise<void>
  size (fd: number): Promise<number>
  truncate (fd: number, length: number): Promise<void>
  close (fd: number): Promise<void>
}

function isMissing (err: unknown): boolean {
  return (err as NodeJS.ErrnoException | undefined)?.code === 'ENOENT'
}

/** A node:fs callback that settles a promise. */
function settle<T> (resolve: (value: T) => void, reject: (err: unknown) => void): (err: NodeJS.ErrnoException | null, value: T) => void {
  return (err, value) => { if (err === null) resolve(value); else reject(err) }
}

function settled (resolve: () => void, reject: (err: unknown) => void): (err: NodeJS.ErrnoException | null) => void {
  return (err) => { if (err === null) resolve(); else reject(err) }
}

export const diskFs: LogFs = {
  async mkdir (path) {
    return mkdir(path, { recursive: true, mode: 0o755 })
  },
  async writeFile (path, bytes) {
    const file = await openFile(path, 'w', 0o644)
    try {
      await file.write(bytes, 0, bytes.length, 0)
    } finally {
      await file.close()
    }
  },
  async sync (path) {
    const file = await openFile(path, 'r')
    try {
      await file.sync()
    } finally {
      await file.close()
    }
  },
  rename,
  async remove (path) {
    await rm(path, { recursive: true, force: true })
  },
  async readFile (path) {
    try {
      const bytes = await readFile(path)
      return new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.length)
    } catch (err) {
      if (isMissing(err)) return undefined
      throw err
    }
  },
  async list (path) {
    try {
      return await readdir(path)
    } catch (err) {
      if (isMissing(err)) return []
      throw err
    }
  },
  openRecords (path) {
    return new Promise((resolve, reject) => { open(path, constants.O_RDWR | constants.O_CREAT, 0o644, settle(resolve, reject)) })
  },
  pwrite (fd, bytes, position) {
    return new Promise((resolve, reject) => {
      let at = 0
      const next = (): void => {
        write(fd, bytes, at, bytes.length - at, position + at, (err, written) => {
          if (err !== null) return reject(err)
          at += written
          if (at < bytes.length) next()
          else resolve()
        })
      }
      next()
    })
  },
  pread (fd, length, position) {
    return new Promise((resolve, reject) => {
      const buffer = Buffer.allocUnsafe(length)
      let at = 0
      const next = (): void => {
        read(fd, buffer, at, length - at, position + at, (err, count) => {
          if (err !== null) return reject(err)
          at += count
          if (count > 0 && at < length) next()
          else resolve(new Uint8Array(buffer.buffer, buffer.byteOffset, at))
        })
      }
      next()
    })
  },
  datasync (fd) {
    return new Promise((resolve, reject) => { fdatasync(fd, settled(resolve, reject)) })
  },
  size (fd) {
    return new Promise((resolve, reject) => { fstat(fd, (err, stats) => { if (err === null) resolve(stats.size); else reject(err) }) })
  },
  truncate (fd, length) {
    return new Promise((resolve, reject) => { ftruncate(fd, length, settled(resolve, reject)) })
  },
  close (fd) {
    return new Promise((resolve, reject) => { close(fd, settled(resolve, reject)) })
  },
}
