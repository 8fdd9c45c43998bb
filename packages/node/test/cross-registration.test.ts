/** Cross-registration's cursor, with stand-ins for the mirror, the verify pool and the registrar. */
import assert from 'node:assert/strict'
import { ScittError, encodeEntryBundle, readU64be, utf8 } from '@scitt/core'
import { silentLogger } from '@scitt/node'
import { CrossRegistration } from '../src/mirror/cross-registration.js'
import type { Mirror } from '../src/mirror/mirror.js'
import type { Registrar } from '../src/registration/registrar.js'
import type { VerifyPool } from '../src/registration/verify-pool.js'
import { STORE_KEYS } from '../src/store-layout.js'
import type { FederationDb } from '../src/witness/store.js'
import { until } from './federation-helpers.js'

describe('cross-registration', () => {
  it('retries an entry whose check failed inside this node instead of moving past it', async () => {
    const entries = [utf8('a'), utf8('b'), utf8('c')]
    const mirror = {
      origin: 'm.example/log',
      size: entries.length,
      log: { entryBundle: async () => encodeEntryBundle(entries), onCheckpoint: () => () => {} },
    } as unknown as Mirror
    let failures = 1
    const pool = {
      check: async (entry: Uint8Array) => {
        if (entry[0] === 0x62 && failures-- > 0) throw new TypeError('a worker died')
        if (entry[0] === 0x63) throw new ScittError('POLICY', 'not an allowed issuer')
        return { entry, entryId: String.fromCharCode(entry[0]!) }
      },
    } as unknown as VerifyPool
    const registered: string[] = []
    const registrar = { submit: async (_: Uint8Array, id: string) => { registered.push(id) } } as unknown as Registrar
    const kept = new Map<string, Uint8Array>()
    const store: FederationDb = { get: async (k) => kept.get(k), put: async (k, v) => { kept.set(k, v) }, values: async function * () {} }
    const c = await CrossRegistration.start({ mirror, pool, registrar, store, logger: silentLogger(), pushbackMs: 10 })
    try {
      await until(() => kept.has(STORE_KEYS.crossRegisterCursor(mirror.origin)), 5000, 'the cursor moves')
      assert.equal(readU64be(kept.get(STORE_KEYS.crossRegisterCursor(mirror.origin))!, 0), 3)
      assert.ok(registered.includes('b'), 'the entry whose check failed inside the node was retried and registered')
      assert.ok(!registered.includes('c'), 'the entry the policy refused was not')
    } finally {
      await c.stop()
    }
  })
})
