/**
 * The small key-value surface the federation services need from the node's LevelDB (a sublevel with
 * string keys and byte values), so that tests can pass memory-level. Writes that answer a peer are
 * synced: the witness persists its new state before it responds (C2SP tlog-witness).
 */
export interface FederationDb {
  get: (key: string) => Promise<Uint8Array | undefined>
  put: (key: string, value: Uint8Array, options?: { sync?: boolean }) => Promise<void>
  values: (options: { gte: string, lt: string }) => AsyncIterable<Uint8Array>
}
