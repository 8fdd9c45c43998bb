/**
 * The latest head seen per origin, and a bounded memory of recent (size → signed note) per origin so
 * that a second root for a size already seen is noticed (architecture.md "How data flows" 5).
 */
import { equalBytes, toBase64, type Checkpoint } from '@scitt/core'

export interface Head {
  origin: string
  size: number
  rootHash: Uint8Array
  /** The signed note, with the cosignatures gathered so far. */
  note: string
  /** Policy names of the witnesses whose cosignatures verify on it. */
  witnesses: string[]
  quorum: boolean
  /** When this node first saw this size (ms since the epoch). */
  seenAt: number
}

export type Observation =
  | { kind: 'new' }
  | { kind: 'same', head: Head }
  | { kind: 'stale' }
  | { kind: 'conflict', previous: Head }

/** Sizes remembered per origin. */
const RECENT = 256

export class Heads {
  readonly #latest = new Map<string, Head>()
  readonly #recent = new Map<string, Map<number, Head>>()

  latest (origin: string): Head | undefined {
    return this.#latest.get(origin)
  }

  all (): Head[] {
    return [...this.#latest.values()]
  }

  at (origin: string, size: number): Head | undefined {
    return this.#recent.get(origin)?.get(size)
  }

  /** How a checkpoint relates to what was seen: new (larger), the same, stale (smaller), or a conflict. */
  observe (cp: Checkpoint): Observation {
    const seen = this.at(cp.origin, cp.size)
    if (seen !== undefined) return equalBytes(seen.rootHash, cp.rootHash) ? { kind: 'same', head: seen } : { kind: 'conflict', previous: seen }
    const latest = this.#latest.get(cp.origin)
    return latest === undefined || cp.size > latest.size ? { kind: 'new' } : { kind: 'stale' }
  }

  /** Records a head (a new size, or more cosignatures on a known one). */
  record (head: Head): void {
    let recent = this.#recent.get(head.origin)
    if (recent === undefined) this.#recent.set(head.origin, recent = new Map())
    recent.set(head.size, head)
    if (recent.size > RECENT) recent.delete(Math.min(...recent.keys()))
    const latest = this.#latest.get(head.origin)
    if (latest === undefined || head.size >= latest.size) this.#latest.set(head.origin, head)
  }

  static json (head: Head): Record<string, unknown> {
    return { origin: head.origin, size: head.size, rootHash: toBase64(head.rootHash), cosignatures: head.witnesses.length, witnesses: head.witnesses, quorum: head.quorum, note: head.note }
  }
}
