/**
 * The latest head seen per origin, and a bounded memory of recent (size → head) per origin so that a
 * second root for a size already seen is noticed. Pure: no I/O, no clock of its own.
 *
 * A head keeps only what was verified: the checkpoint text and the valid signatures of the keys the
 * trust policy names (the log's and its witnesses'). Cosignatures arriving later for a known size are
 * merged into it, so a head's note is bounded by the policy, not by what peers send.
 */
import { equalBytes, formatNote, toBase64, MAX_NOTE_SIGNATURES, type Checkpoint, type Note, type NoteSignature } from '@scitt/core'

export interface Head {
  origin: string
  size: number
  rootHash: Uint8Array
  /** The checkpoint text (what every signature of the head signs). */
  text: string
  /** The signed note: the text with its verified signatures. */
  note: string
  /** The same, parsed. */
  signatures: NoteSignature[]
  /** Policy names of the witnesses whose cosignatures verify on it. */
  witnesses: string[]
  quorum: boolean
  /** When this node first saw this size (ms since the epoch). */
  seenAt: number
}

/** A checkpoint whose note was verified: its text and only the signatures that verified. */
export interface VerifiedCheckpoint {
  checkpoint: Checkpoint
  text: string
  signatures: NoteSignature[]
}

/** Which policy witnesses cosigned a note (its signatures are verified), and whether they meet the quorum. */
export type Judge = (note: Note) => { witnesses: string[], ok: boolean }

export type HeadUpdate =
  /** A size larger than any seen for the origin (previous: the latest before it). */
  | { kind: 'new', head: Head, previous: Head | undefined }
  /** More cosignatures on a known size. */
  | { kind: 'cosigned', head: Head }
  /** Nothing new. */
  | { kind: 'known' }
  /** A size smaller than the latest and not remembered (latest: the origin's latest head). */
  | { kind: 'stale', latest: Head }
  /** A second root for a remembered size. */
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

  /** Takes a verified checkpoint: records it when it is new or adds cosignatures, and says how it relates to what was seen. */
  take (v: VerifiedCheckpoint, judge: Judge, now: number): HeadUpdate {
    const { origin, size, rootHash } = v.checkpoint
    const seen = this.at(origin, size)
    if (seen !== undefined) {
      if (!equalBytes(seen.rootHash, rootHash)) return { kind: 'conflict', previous: seen }
      if (seen.text !== v.text) return { kind: 'known' } // the same tree in other words: its signatures do not merge
      const have = new Set(seen.signatures.map((s) => `${s.name} ${s.keyId}`))
      const added = v.signatures.filter((s) => !have.has(`${s.name} ${s.keyId}`))
      if (added.length === 0 || seen.signatures.length + added.length > MAX_NOTE_SIGNATURES) return { kind: 'known' }
      const merged = this.#head(origin, size, rootHash, v.text, [...seen.signatures, ...added], judge, seen.seenAt)
      if (merged.witnesses.length === seen.witnesses.length) return { kind: 'known' } // only log signatures were new
      this.#record(merged)
      return { kind: 'cosigned', head: merged }
    }
    const latest = this.#latest.get(origin)
    if (latest !== undefined && size <= latest.size) return { kind: 'stale', latest }
    const head = this.#head(origin, size, rootHash, v.text, v.signatures, judge, now)
    this.#record(head)
    return { kind: 'new', head, previous: latest }
  }

  #head (origin: string, size: number, rootHash: Uint8Array, text: string, signatures: NoteSignature[], judge: Judge, seenAt: number): Head {
    const note = { text, signatures }
    const { witnesses, ok } = judge(note)
    return { origin, size, rootHash, text, note: formatNote(note), signatures, witnesses, quorum: ok, seenAt }
  }

  #record (head: Head): void {
    let recent = this.#recent.get(head.origin)
    if (recent === undefined) this.#recent.set(head.origin, recent = new Map<number, Head>())
    recent.set(head.size, head)
    if (recent.size > RECENT) recent.delete(Math.min(...recent.keys()))
    const latest = this.#latest.get(head.origin)
    if (latest === undefined || head.size >= latest.size) this.#latest.set(head.origin, head)
  }

  static json (head: Head): Record<string, unknown> {
    return { origin: head.origin, size: head.size, rootHash: toBase64(head.rootHash), cosignatures: head.witnesses.length, witnesses: head.witnesses, quorum: head.quorum, note: head.note }
  }
}
