/** The federation sublevel's key layout, and the one-time rewrite of the earlier layout's keys. */
import assert from 'node:assert/strict'
import { MemoryLevel } from 'memory-level'
import { originHash, utf8 } from '@scitt/core'
import { LEGACY_KEYS, STORE_KEYS, migrateStoreLayout, type MigratableStore } from '../src/store-layout.js'

describe('federation store layout', () => {
  it('rewrites the earlier keys once, atomically, and leaves the others alone', async () => {
    const db = new MemoryLevel<string, Uint8Array>({ keyEncoding: 'utf8', valueEncoding: 'view' })
    const origin = 'iot.example/log'
    await db.put(LEGACY_KEYS.mirrorDescriptor(origin), utf8('descriptor'))
    await db.put(LEGACY_KEYS.crossRegisterCursor(origin), utf8('cursor'))
    await db.put(STORE_KEYS.evidence('abc'), utf8('evidence'))
    await db.put(STORE_KEYS.witnessState(origin), utf8('state'))
    await db.put('mirror-descriptor"', utf8('outside the legacy range'))
    assert.equal(await migrateStoreLayout(db as unknown as MigratableStore), 2)
    assert.deepEqual(new Uint8Array(await db.get(STORE_KEYS.mirrorDescriptor(origin)) ?? []), utf8('descriptor'))
    assert.deepEqual(new Uint8Array(await db.get(STORE_KEYS.crossRegisterCursor(origin)) ?? []), utf8('cursor'))
    assert.equal(await db.get(LEGACY_KEYS.mirrorDescriptor(origin)), undefined)
    assert.equal(await db.get(LEGACY_KEYS.crossRegisterCursor(origin)), undefined)
    assert.deepEqual((await db.keys().all()).sort(), [
      `cross-register-cursor/${originHash(origin)}`, 'evidence/abc', `mirror-descriptor/${originHash(origin)}`, 'mirror-descriptor"', `witness/${originHash(origin)}`,
    ].sort())
    assert.equal(await migrateStoreLayout(db as unknown as MigratableStore), 0, 'nothing left to rewrite')
  })
})
