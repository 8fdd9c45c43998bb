/**
 * The log's files: a write that fails at any file operation of a batch (a file written, a file or a
 * directory synced, the records; the `checkpoint` file's own writes are tested by fsck below) leaves at most files beyond the committed state; the log deletes
 * them when it reloads, fsck lists them before that and `repair` deletes them, and every
 * acknowledged entry is served.
 */
import assert from 'node:assert/strict'
import { join } from 'node:path'
import { appendFileSync, mkdirSync, writeFileSync } from 'node:fs'
import { TILE_WIDTH, isScittError } from '@scitt/core'
import { Log, diskFs, fsck, type LogDatabase, type LogFs } from '@scitt/log'
import { SignatureRecord, checkLog, entryOf, filesFor, logOptions, memoryBackend, type Acknowledged } from './harness.js'

/** node:fs, failing the n-th call of the write operations from `arm()` on. */
class FailingFs {
  readonly fs: LogFs
  #countdown = -1
  failures = 0

  /** `root`: the static tree's directory; the background `checkpoint` file writes there are not counted. */
  constructor (root: string) {
    const guard = <A extends unknown[], R>(op: (...args: A) => Promise<R>) => async (...args: A): Promise<R> => {
      if (typeof args[0] === 'string' && (args[0] === root || /\/checkpoint\.[0-9.]+tmp$/.test(args[0]))) return op(...args)
      if (this.#countdown === 0) {
        this.#countdown = -1
        this.failures++
        throw new Error('injected file fault')
      }
      if (this.#countdown > 0) this.#countdown--
      return op(...args)
    }
    this.fs = {
      ...diskFs,
      writeFile: guard(diskFs.writeFile),
      sync: guard(diskFs.sync),
      pwrite: guard(diskFs.pwrite),
      datasync: guard(diskFs.datasync),
      mkdir: guard(diskFs.mkdir),
    }
  }

  /** The n-th write operation from now fails. */
  arm (n: number): void {
    this.#countdown = n
  }
}

describe('Log files under injected file faults', function () {
  this.timeout(60_000)
  const backend = memoryBackend()
  after(() => backend.cleanup())

  for (let n = 0; n < 16; n++) {
    it(`a failure at write operation ${n} of a batch rejects it, and the log reloads to the committed files`, async () => {
      const db = await backend.create()
      const faulty = new FailingFs(filesFor(db).dir)
      const record = new SignatureRecord()
      const options = logOptions(db, record, { batchSize: 1000, files: { ...filesFor(db), fs: faulty.fs } })
      const log = await Log.open(options)
      const acknowledged: Acknowledged[] = []
      const seed = Array.from({ length: TILE_WIDTH + 10 }, (_, i) => entryOf(`seed ${i}`))
      for (const [i, r] of (await Promise.all(seed.map((e) => log.add(e)))).entries()) acknowledged.push({ index: r.index, entry: seed[i]! })
      faulty.arm(n)
      // This batch fills a tile and a bundle, and writes partials at two levels.
      const batch = Array.from({ length: TILE_WIDTH }, (_, i) => entryOf(`batch ${i}`))
      const outcomes = await Promise.allSettled(batch.map((e) => log.add(e)))
      assert.equal(faulty.failures, 1, 'the fault was hit')
      for (const o of outcomes) assert.ok(o.status === 'rejected' && isScittError(o.reason, 'INTERNAL'))
      // The next batch reloads first: files beyond the committed state are gone, then it lands.
      const after = Array.from({ length: 3 }, (_, i) => entryOf(`after ${i}`))
      for (const [i, r] of (await Promise.all(after.map((e) => log.add(e)))).entries()) acknowledged.push({ index: r.index, entry: after[i]! })
      assert.equal(log.latestCheckpoint()!.size, TILE_WIDTH + 13)
      await checkLog(log, acknowledged, record)
      const report = await log.fsck()
      assert.deepEqual(report.errors, [])
      assert.deepEqual(report.beyond, [])
      await log.close()
    })
  }

  it('fsck lists files beyond the committed state and a lagging checkpoint file; repair deletes and rewrites them; reopening does too', async () => {
    const db: LogDatabase = await backend.create()
    const record = new SignatureRecord()
    const files = filesFor(db)
    const log = await Log.open(logOptions(db, record, { batchSize: 1000 }))
    await Promise.all(Array.from({ length: 300 }, (_, i) => log.add(entryOf(`x ${i}`))))
    await log.close()
    // What a crash in the next batch can leave: a full tile and bundle, a wider partial, node records, an old checkpoint file.
    mkdirSync(join(files.dir, 'tile/0/001.p'), { recursive: true })
    writeFileSync(join(files.dir, 'tile/0/001'), new Uint8Array(8192))
    writeFileSync(join(files.dir, 'tile/0/001.p/200'), new Uint8Array(6400))
    mkdirSync(join(files.dir, 'tile/entries'), { recursive: true })
    writeFileSync(join(files.dir, 'tile/entries/001'), new Uint8Array(3))
    appendFileSync(join(files.nodesDir, '0'), new Uint8Array(2 * 16_329))
    writeFileSync(join(files.dir, 'checkpoint'), (await log.checkpointAt(0)).note)

    const listed = await fsck(db, files, { origin: log.origin })
    assert.deepEqual(listed.errors, [])
    assert.ok(listed.ok)
    assert.deepEqual(listed.beyond.filter((b) => b.startsWith('tile/')), ['tile/0/001', 'tile/0/001.p/200', 'tile/entries/001'])
    assert.ok(listed.beyond.some((b) => b.startsWith('node records of level 0: 2 beyond')), listed.beyond.join('; '))
    assert.ok(listed.beyond.some((b) => b.startsWith('checkpoint is of size 0')), listed.beyond.join('; '))

    const repaired = await fsck(db, files, { origin: log.origin, repair: true })
    assert.ok(repaired.repaired.length >= 5)
    const clean = await fsck(db, files, { origin: log.origin })
    assert.deepEqual([clean.errors, clean.beyond], [[], []])

    // A damaged tile inside the tree is an error, which repair rewrites from the entries.
    writeFileSync(join(files.dir, 'tile/0/000'), new Uint8Array(8192))
    assert.match((await fsck(db, files, { origin: log.origin })).errors.join('\n'), /file tile\/0\/000 is not the re-derived one/)
    await fsck(db, files, { origin: log.origin, repair: true })
    assert.deepEqual((await fsck(db, files, { origin: log.origin })).errors, [])

    // Reopening deletes what a crash left, as repair does.
    writeFileSync(join(files.dir, 'tile/0/001'), new Uint8Array(8192))
    const reopened = await Log.open(logOptions(db, record))
    assert.deepEqual((await reopened.fsck()).beyond, [])
    await reopened.close()
  })
})
