/**
 * The logs a node holds, by origin: its own and its mirrors. Each part registers what it holds and
 * knows: the node its own log, the federation the same log again with its cosigned checkpoint and
 * descriptor (a later `add` for an origin replaces the earlier), the mirrors each mirror as it opens. HTTP, the log-data and consistency
 * protocols and the auditor read from here. `all()` lists the own log first, then the mirrors in the
 * configured order (the order in which an entry several logs hold is looked up).
 */
import { equalBytes, originHash } from '@scitt/core'
import type { Log } from '@scitt/log'

/** A log the node serves: its own, or a mirror of another origin's. */
export interface HeldLog {
  origin: string
  /** hex(SHA-256(origin)): its path prefix `/logs/<hex>/` and its database name. */
  hash: string
  log: Log
  /** The latest checkpoint note, with the witnesses' cosignatures when the federation has gathered them. */
  checkpointNote: () => string | undefined
  /** The origin's signed announce descriptor, when the node has it. */
  descriptor: () => Uint8Array | undefined
}

export class HeldLogs {
  readonly #order: readonly string[]
  readonly #byOrigin = new Map<string, HeldLog>()

  /** `order`: the own origin first, then the mirrored origins (a mirror registered later keeps its place). */
  constructor (order: readonly string[]) {
    this.#order = order
  }

  add (held: Omit<HeldLog, 'hash'>): void {
    if (!this.#order.includes(held.origin)) throw new RangeError(`${held.origin} is not a log this node holds`)
    this.#byOrigin.set(held.origin, { ...held, hash: originHash(held.origin) })
  }

  get (origin: string): HeldLog | undefined {
    return this.#byOrigin.get(origin)
  }

  byHash (hex: string): HeldLog | undefined {
    for (const held of this.#byOrigin.values()) if (held.hash === hex) return held
    return undefined
  }

  all (): HeldLog[] {
    return this.#order.flatMap((origin) => this.#byOrigin.get(origin) ?? [])
  }
}

/**
 * The best checkpoint note for a log: `cosigned` (the same checkpoint with more signatures) when it
 * is of the log's latest size and root, else the log's own latest note.
 */
export function bestCheckpointNote (log: Log, cosigned: { size: number, rootHash: Uint8Array, note: string } | undefined): string | undefined {
  const latest = log.latestCheckpoint()
  if (latest === undefined) return undefined
  return cosigned !== undefined && cosigned.size === latest.size && equalBytes(cosigned.rootHash, latest.rootHash) ? cosigned.note : latest.note
}
