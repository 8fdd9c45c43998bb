/**
 * The auditor: turns what the federation sees into evidence of equivocation (equivocation.ts), stores
 * it and publishes it. Two signed checkpoints of one size with two roots are `same-size` evidence at
 * once. Two sizes are checked for consistency (RFC 9162 §2.1.4): with a proof from a log this node
 * holds, else from the peers that announce the origin, its mirrors and the peer that relayed the head.
 * Any valid proof settles it. Only the origin's own peers can be held to account: when every one of
 * them answered, wrongly or with a refusal, that becomes `no-consistency-proof` evidence; a refusal
 * from a mirror or a relay (it may not hold those sizes), or network failures, never do.
 * Also serves the consistency protocol from the logs the node holds.
 */
import { TopicValidatorResult } from '@libp2p/gossipsub'
import type { PeerId } from '@libp2p/interface'
import { ScittError, equalBytes, isScittError, parseCheckpoint, parseNote, toHex, verifyConsistency, type NoteVerifier } from '@scitt/core'
import type { Log } from '@scitt/log'
import type { HeldLogs } from '../held-logs.js'
import type { Logger } from '../logger.js'
import type { PeerDirectory } from './directory.js'
import { EvidenceStore, buildEvidence, encodeEvidence, evidenceId, openEvidence, type Attempt, type Evidence } from './equivocation.js'
import type { FederationMetrics } from './metrics.js'
import type { Protocols } from './protocols.js'
import { decodeConsistencyAnswer, decodeConsistencyRequest, encodeConsistencyAnswer, encodeConsistencyRequest } from './wire.js'

/** Consistency checks remembered (a pair seen again is not checked again). */
const RECENT_CHECKS = 1024
/** Peers asked for one consistency proof. */
const MAX_PEERS_ASKED = 8
/** Refusals that say nothing about the proof (answer.ts codes). */
const TRANSIENT = /^(PUSHBACK|INTERNAL):/

export interface AuditorOptions {
  /** This node's origin and log. */
  origin: string
  log: Log
  held: HeldLogs
  directory: PeerDirectory
  protocols: Protocols
  evidence: EvidenceStore
  keysFor: (origin: string) => NoteVerifier[]
  /** Publishes evidence on the evidence topic. */
  publish: (data: Uint8Array) => Promise<void>
  /** Told of each new evidence, after it is stored. */
  onEvidence: (id: string, evidence: Evidence) => void
  peerId: () => string
  logger: Logger
  metrics: FederationMetrics | undefined
}

export class Auditor {
  readonly #o: AuditorOptions
  readonly #checked = new Set<string>()

  constructor (o: AuditorOptions) {
    this.#o = o
  }

  /** Two notes of one size, both signed by the origin's log key, with different roots. */
  async conflict (origin: string, a: string, b: string): Promise<void> {
    try {
      await this.#record(buildEvidence('same-size', origin, a, b, this.#o.keysFor(origin)))
    } catch (err) {
      this.#o.logger.warn({ origin, err: (err as Error).message }, 'could not build evidence')
    }
  }

  /** The evidence topic's validator: same-size evidence is re-verified and kept; the weaker kind is checked here again. */
  accept (data: Uint8Array): TopicValidatorResult {
    const e = openEvidence(data, this.#o.keysFor)
    if (this.#o.evidence.has(evidenceId(e))) return TopicValidatorResult.Ignore
    if (e.kind === 'same-size') {
      void this.#record(e).catch((err: unknown) => { this.#o.logger.warn({ origin: e.origin, err: (err as Error).message }, 'could not store evidence') })
      return TopicValidatorResult.Accept
    }
    void this.checkConsistency(e.notes[0], e.notes[1])
    return TopicValidatorResult.Ignore
  }

  async #record (e: Evidence): Promise<void> {
    if (!(await this.#o.evidence.add(e))) return
    const id = evidenceId(e)
    this.#o.metrics?.evidence.inc({ kind: e.kind })
    this.#o.logger.error({ origin: e.origin, kind: e.kind, evidence: id }, 'equivocation: the log showed two histories')
    this.#o.onEvidence(id, e)
    await this.#o.publish(encodeEvidence(e))
  }

  /** Checks two signed notes of an origin for consistency (see the module comment). Never throws. */
  async checkConsistency (noteA: string, noteB: string, relayedBy?: PeerId): Promise<void> {
    try {
      await this.#check(noteA, noteB, relayedBy)
    } catch (err) {
      this.#o.logger.warn({ err: (err as Error).message }, 'consistency check failed')
    }
  }

  async #check (noteA: string, noteB: string, relayedBy?: PeerId): Promise<void> {
    let a = parseCheckpoint(parseNote(noteA).text)
    let b = parseCheckpoint(parseNote(noteB).text)
    if (a.size === b.size) return
    if (a.size > b.size) {
      [a, b] = [b, a];
      [noteA, noteB] = [noteB, noteA]
    }
    if (a.size === 0) return // every tree extends the empty one
    const key = `${a.origin} ${a.size} ${toHex(a.rootHash)} ${b.size} ${toHex(b.rootHash)}`
    if (this.#checked.has(key)) return
    // The oldest pair is forgotten first (a Set iterates in insertion order), so replaying many pairs
    // cannot empty the memory of the recent ones.
    if (this.#checked.size >= RECENT_CHECKS) this.#checked.delete(this.#checked.values().next().value!)
    this.#checked.add(key)
    const { origin } = a
    if (origin === this.#o.origin) {
      const own = this.#o.log.latestCheckpoint()
      if (own !== undefined && b.size <= own.size) {
        for (const cp of [{ note: noteA, c: a }, { note: noteB, c: b }]) {
          const mine = await this.#o.log.checkpointAt(cp.c.size).catch(() => undefined)
          if (mine !== undefined && !equalBytes(mine.rootHash, cp.c.rootHash)) await this.conflict(origin, mine.note, cp.note)
        }
        return
      }
    }
    const held = this.#o.held.get(origin)?.log
    if (held !== undefined && origin !== this.#o.origin && (held.latestCheckpoint()?.size ?? 0) >= b.size) {
      try {
        verifyConsistency(a.size, b.size, a.rootHash, b.rootHash, await held.consistencyProof(a.size, b.size))
        return // consistent with the history this node verified itself
      } catch {
        // not consistent with the mirrored history: the origin's peers are asked below, as for any head
      }
    }
    const holders = new Set(this.#o.directory.holders(origin))
    const peers = new Set<string>([...holders, ...this.#o.directory.peersFor(origin)])
    if (relayedBy !== undefined) peers.add(relayedBy.toString())
    peers.delete(this.#o.peerId())
    const attempts: Attempt[] = []
    for (const peer of [...peers].slice(0, MAX_PEERS_ASKED)) {
      try {
        const answer = decodeConsistencyAnswer(await this.#o.protocols.ask(peer, 'consistency', encodeConsistencyRequest(origin, a.size, b.size)))
        if ('error' in answer) {
          // An overloaded or failing peer has not refused the proof: it may give it next time.
          if (holders.has(peer) && !TRANSIENT.test(answer.error)) attempts.push({ peer, error: `refused: ${answer.error}`.slice(0, 500) })
          continue
        }
        verifyConsistency(a.size, b.size, a.rootHash, b.rootHash, answer.proof)
        return // consistent
      } catch (err) {
        if (isScittError(err) && holders.has(peer)) attempts.push({ peer, error: `${err.code}: ${err.message}`.slice(0, 500) })
      }
    }
    if (attempts.length === 0) {
      this.#checked.delete(key) // nobody answered: try again on the next head
      return
    }
    await this.#record(buildEvidence('no-consistency-proof', origin, noteA, noteB, this.#o.keysFor(origin), attempts))
  }

  /** The consistency protocol: a proof between two sizes of a log this node holds. */
  async serveConsistency (body: Uint8Array): Promise<Uint8Array> {
    const { origin, size1, size2 } = decodeConsistencyRequest(body)
    const log = this.#o.held.get(origin)?.log
    if (log === undefined) throw new ScittError('NOT_FOUND', 'unknown origin')
    const latest = log.latestCheckpoint()
    if (latest === undefined || size2 > latest.size || size1 === 0) throw new ScittError('NOT_FOUND', 'no such sizes')
    return encodeConsistencyAnswer({ proof: await log.consistencyProof(size1, size2) })
  }
}
