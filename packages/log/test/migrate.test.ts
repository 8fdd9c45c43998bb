/**
 * Migration from the earlier layout (entry bundles and tile parts as database records) to files: a
 * log written in the current layout is turned back into the earlier one record by record, then
 * opened on empty files; it must serve the same bytes, pass fsck, and hold no old record after.
 */
import assert from 'node:assert/strict'
import { TILE_WIDTH, concatBytes, u64be } from '@scitt/core'
import { Log, fsck, type LogDatabase } from '@scitt/log'
import { LEGACY_BUNDLE_RANGE, LEGACY_TILE_RANGE, VIEW } from '../src/layout.js'
import { hasLegacyLayout } from '../src/migrate.js'
import { SignatureRecord, entryOf, filesFor, logOptions, memoryBackend, noteVerifier, receiptVerifier } from './harness.js'

const SIZE = 3 * TILE_WIDTH + 100

describe('Log migration from database records to files', function () {
  this.timeout(30_000)
  const backend = memoryBackend()
  after(() => backend.cleanup())

  /** Copies every record of `from` to `to`, then adds the earlier layout's bundle records (and a tile part record). */
  async function legacyCopy (from: LogDatabase, log: Log, to: LogDatabase, size = SIZE): Promise<void> {
    const rows = await from.iterator({ ...VIEW }).nextv(1_000_000)
    const puts = rows.map(([key, value]) => ({ type: 'put' as const, key, value }))
    for (let n = 0; n * TILE_WIDTH < size; n++) {
      const width = Math.min(TILE_WIDTH, size - n * TILE_WIDTH)
      puts.push({ type: 'put', key: concatBytes(LEGACY_BUNDLE_RANGE.gte, u64be(n)), value: await log.entryBundle(n, width) })
    }
    puts.push({ type: 'put', key: concatBytes(LEGACY_TILE_RANGE.gte, Uint8Array.of(0), u64be(0), Uint8Array.of(0)), value: new Uint8Array(33) })
    await to.batch(puts, { ...VIEW, sync: false })
  }

  it('moves the entries and tiles to files, serves the same bytes, passes fsck and deletes the old records', async () => {
    const record = new SignatureRecord()
    const db = await backend.create()
    const log = await Log.open(logOptions(db, record, { batchSize: 100 }))
    for (let i = 0; i < SIZE; i += 100) await Promise.all(Array.from({ length: Math.min(100, SIZE - i) }, (_, j) => log.add(entryOf(`m ${i + j}`))))
    const legacy = await backend.create()
    await legacyCopy(db, log, legacy)
    assert.ok(await hasLegacyLayout(legacy))

    const files = filesFor(legacy)
    const before = await fsck(legacy, files, { origin: log.origin })
    assert.match(before.errors.join('\n'), /the earlier layout/)
    assert.ok(await hasLegacyLayout(legacy), 'fsck without repair changes nothing')
    const migrated = await Log.open(logOptions(legacy, record, { batchSize: 100 }))
    assert.equal(await hasLegacyLayout(legacy), false, 'no record of the earlier layout is left')
    assert.equal(migrated.latestCheckpoint()!.note, log.latestCheckpoint()!.note)
    for (let n = 0; n * TILE_WIDTH < SIZE; n++) {
      const width = Math.min(TILE_WIDTH, SIZE - n * TILE_WIDTH)
      assert.deepEqual(await migrated.entryBundle(n, width), await log.entryBundle(n, width), `bundle ${n}`)
      assert.deepEqual(await migrated.tile({ level: 0, index: n, width }), await log.tile({ level: 0, index: n, width }), `tile 0/${n}`)
    }
    assert.deepEqual(await migrated.tile({ level: 1, index: 0, width: 3 }), await log.tile({ level: 1, index: 0, width: 3 }))
    for (const index of [0, 255, 256, 700, SIZE - 1]) assert.deepEqual(await migrated.receipt(index), await log.receipt(index), `receipt ${index}`)
    const report = await migrated.fsck({ noteVerifiers: [noteVerifier], receiptVerifiers: [receiptVerifier] })
    assert.deepEqual(report.errors, [])
    assert.equal(report.entries, SIZE)
    // It goes on appending in the files.
    assert.equal((await migrated.add(entryOf('after migration'))).index, SIZE)
    await migrated.close()
    await log.close()
  })

  it('fsck with repair migrates a log of the earlier layout', async () => {
    const record = new SignatureRecord()
    const db = await backend.create()
    const log = await Log.open(logOptions(db, record, { batchSize: 100 }))
    await Promise.all(Array.from({ length: 300 }, (_, i) => log.add(entryOf(`r ${i}`))))
    const legacy = await backend.create()
    await legacyCopy(db, log, legacy, 300)
    const report = await fsck(legacy, filesFor(legacy), { origin: log.origin, repair: true, noteVerifiers: [noteVerifier] })
    assert.deepEqual(report.errors, [])
    assert.match(report.repaired.join('\n'), /migrated 300 entries/)
    assert.equal(await hasLegacyLayout(legacy), false)
    await log.close()
  })

  it('refuses a stored tree its bundles do not reproduce, and changes nothing', async () => {
    const record = new SignatureRecord()
    const db = await backend.create()
    const log = await Log.open(logOptions(db, record, { batchSize: 100 }))
    for (let i = 0; i < SIZE; i += 100) await Promise.all(Array.from({ length: Math.min(100, SIZE - i) }, (_, j) => log.add(entryOf(`m ${i + j}`))))
    const legacy = await backend.create()
    await legacyCopy(db, log, legacy)
    // Damage one stored entry: the replayed tree differs from the stored tree state.
    const key = concatBytes(LEGACY_BUNDLE_RANGE.gte, u64be(1))
    const bundle = (await legacy.get(key, VIEW))!.slice()
    bundle[5] = bundle[5]! ^ 1
    await legacy.batch([{ type: 'put', key, value: bundle }], { ...VIEW, sync: false })
    await assert.rejects(Log.open(logOptions(legacy, record)), /migration to files failed/)
    assert.ok(await hasLegacyLayout(legacy), 'the old records are kept')
    await log.close()
  })
})
