/**
 * The database of a mirrored log: the sublevel `name` of the node's LevelDB. Reads go through the
 * sublevel; a batch goes to the node's database with the sublevel's prefix put before each key by
 * hand: the same bytes on disk and one atomic write, without the sublevel's second pass over every
 * operation (a mirror writes one index record per entry; README, Design).
 */
import { concatBytes } from '@scitt/core'
import type { Level } from 'level'
import type { BatchPut, LogDatabase } from '@scitt/log'

const VIEW = { keyEncoding: 'view', valueEncoding: 'view' } as const

export function mirrorDatabase (root: Level<Uint8Array, Uint8Array>, name: string): LogDatabase {
  const sublevel = root.sublevel<Uint8Array, Uint8Array>(name, VIEW)
  const prefix = sublevel.prefixKey(new Uint8Array(0), 'view', false)
  return {
    get: (key, options) => sublevel.get(key, options),
    getMany: (keys, options) => sublevel.getMany(keys, options),
    iterator: (options) => sublevel.iterator(options),
    clear: (options) => sublevel.clear(options),
    batch: (operations: BatchPut[], options) => root.batch(operations.map((op) => ({ type: 'put' as const, key: concatBytes(prefix, op.key), value: op.value })), options),
  }
}
