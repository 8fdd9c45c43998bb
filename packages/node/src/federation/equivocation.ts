/**
 * Evidence of equivocation (docs/spec-digest.md §7.2; docs/wire-formats.md "Evidence"), as JSON:
 *
 *   {"type":"scitt-equivocation/v1","kind":"same-size","origin":O,"notes":[A,B]}
 *   {"type":"scitt-equivocation/v1","kind":"no-consistency-proof","origin":O,"notes":[A,B],"attempts":[...]}
 *
 * `same-size`: two checkpoints of one size with different roots, both signed by the origin's log key;
 * self-contained, anyone re-verifies it. `no-consistency-proof`: two signed checkpoints of different
 * sizes for which the peers serving the origin answered with no valid RFC 9162 consistency proof (the
 * weaker, interactive kind; `attempts` records what each peer answered).
 *
 * Canonical form: each note is reduced to its checkpoint text and the log's signature lines, and the
 * pair is ordered (by size, then root), so every honest node that sees the same pair records the same
 * evidence with the same id (hex SHA-256 of type, kind, origin and notes).
 */
import { createHash } from 'node:crypto'
import {
  ScittError, compareBytes, equalBytes, formatNote, malformed, parseCheckpoint, parseNote, verifyNote,
  MAX_NOTE_SIZE, type Checkpoint, type NoteVerifier,
} from '@scitt/core'
import { STORE_KEYS } from '../store-layout.js'
import type { FederationDb } from '../witness/store.js'

export type EvidenceKind = 'same-size' | 'no-consistency-proof'

export interface Attempt {
  peer: string
  error: string
}

export interface Evidence {
  type: 'scitt-equivocation/v1'
  kind: EvidenceKind
  origin: string
  notes: [string, string]
  attempts?: Attempt[]
}

const TYPE = 'scitt-equivocation/v1'
export const MAX_EVIDENCE_SIZE = 2 * MAX_NOTE_SIZE + 64 * 1024
const MAX_ATTEMPTS = 16

/** The note reduced to its text and the log's signatures (verified), with its parsed checkpoint. */
function reduce (note: string, keys: readonly NoteVerifier[]): { note: string, checkpoint: Checkpoint } {
  const parsed = parseNote(note)
  const checkpoint = parseCheckpoint(parsed.text)
  const verified = verifyNote({ text: parsed.text, signatures: parsed.signatures.filter((s) => keys.some((k) => k.name === s.name && k.keyId === s.keyId)) }, keys)
  return { note: formatNote({ text: parsed.text, signatures: verified }), checkpoint }
}

function order (a: { note: string, checkpoint: Checkpoint }, b: { note: string, checkpoint: Checkpoint }): [string, string] {
  const c = a.checkpoint.size - b.checkpoint.size || compareBytes(a.checkpoint.rootHash, b.checkpoint.rootHash)
  return c <= 0 ? [a.note, b.note] : [b.note, a.note]
}

/**
 * Builds canonical evidence from two notes validly signed by `keys` (BAD_SIGNATURE otherwise).
 * `same-size` requires one size and two roots; the other kind two sizes.
 */
export function buildEvidence (kind: EvidenceKind, origin: string, noteA: string, noteB: string, keys: readonly NoteVerifier[], attempts?: Attempt[]): Evidence {
  const a = reduce(noteA, keys)
  const b = reduce(noteB, keys)
  if (a.checkpoint.origin !== origin || b.checkpoint.origin !== origin) throw malformed('evidence notes are not both for the origin')
  if (kind === 'same-size') {
    if (a.checkpoint.size !== b.checkpoint.size || equalBytes(a.checkpoint.rootHash, b.checkpoint.rootHash)) {
      throw new ScittError('MALFORMED', 'same-size evidence needs one size and two different roots')
    }
    return { type: TYPE, kind, origin, notes: order(a, b) }
  }
  if (a.checkpoint.size === b.checkpoint.size) throw malformed('no-consistency-proof evidence needs two sizes')
  return { type: TYPE, kind, origin, notes: order(a, b), attempts: (attempts ?? []).slice(0, MAX_ATTEMPTS) }
}

/** Stable id: the same pair gives the same id on every node. */
export function evidenceId (e: Evidence): string {
  return createHash('sha256').update(JSON.stringify([e.type, e.kind, e.origin, e.notes])).digest('hex')
}

export function encodeEvidence (e: Evidence): Uint8Array {
  return new TextEncoder().encode(JSON.stringify(e))
}

/**
 * Strictly parses evidence JSON and re-verifies it with the origin's trusted log keys: UNKNOWN_ORIGIN
 * when `keysFor` has none, BAD_SIGNATURE / MALFORMED / TOO_LARGE otherwise. The result is canonical.
 */
export function openEvidence (bytes: Uint8Array, keysFor: (origin: string) => NoteVerifier[]): Evidence {
  if (bytes.length > MAX_EVIDENCE_SIZE) throw new ScittError('TOO_LARGE', 'evidence too large')
  let value: unknown
  try {
    value = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes))
  } catch (cause) {
    throw malformed('evidence is not JSON', cause)
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw malformed('evidence is not an object')
  const v = value as Record<string, unknown>
  const allowed = ['type', 'kind', 'origin', 'notes', 'attempts']
  if (Object.keys(v).some((k) => !allowed.includes(k))) throw malformed('evidence has unknown fields')
  if (v.type !== TYPE || (v.kind !== 'same-size' && v.kind !== 'no-consistency-proof') || typeof v.origin !== 'string') throw malformed('evidence header is invalid')
  if (!Array.isArray(v.notes) || v.notes.length !== 2 || v.notes.some((n) => typeof n !== 'string')) throw malformed('evidence notes are invalid')
  let attempts: Attempt[] | undefined
  if (v.kind === 'no-consistency-proof') {
    if (!Array.isArray(v.attempts) || v.attempts.length > MAX_ATTEMPTS) throw malformed('evidence attempts are invalid')
    attempts = v.attempts.map((a: unknown) => {
      const r = a as Record<string, unknown>
      if (typeof a !== 'object' || a === null || Object.keys(r).length !== 2 || typeof r.peer !== 'string' || typeof r.error !== 'string' || r.peer.length > 200 || r.error.length > 500) throw malformed('evidence attempt is invalid')
      return { peer: r.peer, error: r.error }
    })
  } else if (v.attempts !== undefined) {
    throw malformed('same-size evidence has no attempts')
  }
  const keys = keysFor(v.origin)
  if (keys.length === 0) throw new ScittError('UNKNOWN_ORIGIN', `evidence for unknown origin ${JSON.stringify(v.origin)}`)
  const [a, b] = v.notes as [string, string]
  return buildEvidence(v.kind, v.origin, a, b, keys, attempts)
}

/** Most evidence kept per origin (see EvidenceStore.add). */
export const MAX_EVIDENCE_PER_ORIGIN = 8

/** Evidence kept by a node: persisted, listed, and the origins it condemns. */
export class EvidenceStore {
  readonly #db: FederationDb
  readonly #byId = new Map<string, Evidence>()

  constructor (db: FederationDb) {
    this.#db = db
  }

  async load (): Promise<void> {
    for await (const bytes of this.#db.values(STORE_KEYS.evidenceRange)) {
      const e = JSON.parse(new TextDecoder().decode(bytes)) as Evidence
      this.#byId.set(evidenceId(e), e)
    }
  }

  has (id: string): boolean {
    return this.#byId.has(id)
  }

  /**
   * Stores evidence (synced); false when it was already known, or when the origin already has
   * MAX_EVIDENCE_PER_ORIGIN pieces (one condemns it; more only cost space) and this is not its first
   * same-size evidence (the kind that proves a fork on its own).
   */
  async add (e: Evidence): Promise<boolean> {
    const id = evidenceId(e)
    if (this.#byId.has(id)) return false
    const held = [...this.#byId.values()].filter((x) => x.origin === e.origin)
    if (held.length >= MAX_EVIDENCE_PER_ORIGIN && !(e.kind === 'same-size' && !held.some((x) => x.kind === 'same-size'))) return false
    this.#byId.set(id, e)
    await this.#db.put(STORE_KEYS.evidence(id), encodeEvidence(e), { sync: true })
    return true
  }

  list (): Array<{ id: string, evidence: Evidence }> {
    return [...this.#byId].map(([id, evidence]) => ({ id, evidence }))
  }

  /** The id of some evidence against the origin, or undefined. */
  against (origin: string): string | undefined {
    for (const [id, e] of this.#byId) if (e.origin === origin) return id
    return undefined
  }
}
