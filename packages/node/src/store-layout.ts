/**
 * Every key of the node's `federation` sublevel (string keys, byte values), in one place and one style:
 * `<kind>/<id>`, with hex(SHA-256(origin)) for an origin (keys stay short whatever the origin).
 *
 *   witness/<origin hash>                 the witness's latest cosigned checkpoint of an origin (witness-store.ts)
 *   evidence/<evidence id>                equivocation evidence, JSON (equivocation.ts)
 *   mirror-descriptor/<origin hash>       a mirrored origin's latest signed descriptor (mirrors.ts)
 *   mirror-receipt-keys/<origin hash>     every receipt key a mirrored origin announced (receipt-keys.ts)
 *   cross-register-cursor/<origin hash>   u64be: the next mirrored entry to cross-register (cross-registration.ts)
 *
 * Data dirs written before this layout kept `mirror-descriptor` and `cross-register-cursor` as
 * `<kind>!<origin>`; `migrateStoreLayout` rewrites them once, in one atomic batch, when the node opens
 * its database.
 */
import { originHash } from '@scitt/core'

export const STORE_KEYS = {
  witnessState: (origin: string): string => `witness/${originHash(origin)}`,
  evidence: (id: string): string => `evidence/${id}`,
  evidenceRange: { gte: 'evidence/', lt: 'evidence0' },
  mirrorDescriptor: (origin: string): string => `mirror-descriptor/${originHash(origin)}`,
  mirrorReceiptKeys: (origin: string): string => `mirror-receipt-keys/${originHash(origin)}`,
  crossRegisterCursor: (origin: string): string => `cross-register-cursor/${originHash(origin)}`,
} as const

/** What the migration needs of the sublevel (abstract-level's). */
export interface MigratableStore {
  iterator: (options: { gte: string, lt: string }) => AsyncIterable<[string, Uint8Array]>
  batch: (ops: Array<{ type: 'put', key: string, value: Uint8Array } | { type: 'del', key: string }>, options: { sync: boolean }) => Promise<void>
}

/** The keys of the earlier layout. */
export const LEGACY_KEYS = {
  mirrorDescriptor: (origin: string): string => `mirror-descriptor!${origin}`,
  crossRegisterCursor: (origin: string): string => `cross-register-cursor!${origin}`,
} as const

const LEGACY: Array<{ prefix: string, key: (origin: string) => string }> = [
  { prefix: LEGACY_KEYS.mirrorDescriptor(''), key: STORE_KEYS.mirrorDescriptor },
  { prefix: LEGACY_KEYS.crossRegisterCursor(''), key: STORE_KEYS.crossRegisterCursor },
]

/** Rewrites keys of the earlier layout (see the module comment); returns how many it moved. */
export async function migrateStoreLayout (store: MigratableStore): Promise<number> {
  const ops: Parameters<MigratableStore['batch']>[0] = []
  for (const { prefix, key } of LEGACY) {
    // '!' is 0x21 and '"' the next code point: the range holds exactly the keys with the prefix.
    for await (const [old, value] of store.iterator({ gte: prefix, lt: prefix.slice(0, -1) + '"' })) {
      ops.push({ type: 'put', key: key(old.slice(prefix.length)), value }, { type: 'del', key: old })
    }
  }
  if (ops.length > 0) await store.batch(ops, { sync: true })
  return ops.length / 2
}
