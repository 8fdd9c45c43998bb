/**
 * Cosigning of the node's own checkpoints (C2SP tlog-witness, client side): every policy witness but
 * this node is asked to cosign each new checkpoint. Each witness has its own queue, one request at a
 * time and the latest checkpoint only, so a slow or unreachable witness delays nobody else and a newer
 * checkpoint supersedes an older one still waiting for that witness. The answers are gathered on the
 * latest checkpoint (kept parsed); the cosigned checkpoint is handed on as soon as it meets the
 * quorum (and again as cosignatures add up), or once every witness answered without a quorum.
 */
import { formatNote, isScittError, parseNote, type NoteSignature, type PolicyWitness } from '@scitt/core'
import type { Log, PublishedCheckpoint } from '@scitt/log'
import type { Logger } from '../logger.js'
import { WitnessClient, httpWitnessTransport, type WitnessTransport } from '../witness/witness-client.js'
import type { FederationMetrics } from './metrics.js'
import type { TrustPolicy } from './trust.js'

export interface CosigningOptions {
  log: Log
  trust: TrustPolicy
  /** This node's witness vkey (it does not ask itself). */
  witnessVkey: string | undefined
  /** The libp2p transport to a witness a trusted descriptor announces, if any. */
  peerTransport: (w: PolicyWitness) => WitnessTransport | undefined
  /** Called with the cosigned note of `cp` when it is worth spreading (see the module comment). */
  onCosigned: (note: string, cp: PublishedCheckpoint) => void
  /** Called when a witness has cosigned a larger size of this log than it holds: the node lost data (history-guard.ts). */
  onLargerHistory: (reason: string) => void
  /** Called once per checkpoint when its cosignatures first meet the quorum. */
  onQuorum: (note: string, size: number) => void
  /** Least time between two re-asks of the latest checkpoint when witnesses announce themselves (ms). */
  rewitnessMs: number
  timeoutMs: number
  logger: Logger
  metrics: FederationMetrics | undefined
  now: () => number
}

/** The latest checkpoint with the cosignatures gathered so far. */
interface Cosigned {
  size: number
  text: string
  signatures: NoteSignature[]
  note: string
}

export class Cosigning {
  readonly #o: CosigningOptions
  readonly #client: WitnessClient
  /** Per policy witness (by name): the latest checkpoint to ask it to cosign, and its request loop. */
  readonly #queues = new Map<string, { pending: PublishedCheckpoint | undefined, running: Promise<void> | undefined }>()
  /** The cosigning of the latest checkpoint: answers so far and whether the quorum was reached. */
  #round: { size: number, started: number, answered: number, quorum: boolean } | undefined
  #cosigned: Cosigned | undefined
  #rewitnessedAt = 0
  #stopped = false

  constructor (o: CosigningOptions) {
    this.#o = o
    this.#client = new WitnessClient((a, b) => o.log.consistencyProof(a, b))
  }

  /** The latest checkpoint of the log with the cosignatures gathered so far (undefined until it has one). */
  note (): string | undefined {
    const latest = this.#o.log.latestCheckpoint()
    return this.#cosigned !== undefined && latest !== undefined && this.#cosigned.size === latest.size ? this.#cosigned.note : undefined
  }

  /** The size each witness last cosigned for this log. */
  knownSize (witness: string): number | undefined {
    return this.#client.knownSize(witness)
  }

  /** A new checkpoint of the node's log: ask every witness. */
  checkpoint (cp: PublishedCheckpoint): void {
    if (this.#stopped) return
    const parsed = parseNote(cp.note)
    this.#cosigned = { size: cp.size, text: parsed.text, signatures: parsed.signatures, note: cp.note }
    this.#ask(cp)
  }

  /**
   * A witness announced itself (it may have just joined or restarted): ask again for the latest
   * checkpoint if it lacks the quorum, at most once per `rewitnessMs`.
   */
  rewitness (): void {
    const latest = this.#o.log.latestCheckpoint()
    const cosigned = this.#cosigned
    if (latest === undefined || this.#stopped || cosigned?.size !== latest.size) return
    if (this.#o.trust.quorum(cosigned).ok) return
    if (this.#o.now() - this.#rewitnessedAt < this.#o.rewitnessMs) return
    this.#rewitnessedAt = this.#o.now()
    this.#ask(latest)
  }

  /** The requests under way. */
  running (): Array<Promise<void>> {
    return [...this.#queues.values()].flatMap((q) => (q.running === undefined ? [] : [q.running]))
  }

  async stop (): Promise<void> {
    this.#stopped = true
    await Promise.allSettled(this.running())
  }

  #ask (cp: PublishedCheckpoint): void {
    const targets = this.#o.trust.witnesses.filter((w) => w.vkey !== this.#o.witnessVkey)
    if (this.#round?.size !== cp.size) this.#round = { size: cp.size, started: this.#o.now(), answered: 0, quorum: false }
    for (const w of targets) {
      let queue = this.#queues.get(w.name)
      if (queue === undefined) this.#queues.set(w.name, queue = { pending: undefined, running: undefined })
      queue.pending = cp
      const q = queue
      q.running ??= (async () => {
        while (q.pending !== undefined && !this.#stopped) {
          const next = q.pending
          q.pending = undefined
          await this.#askWitness(w, next, targets.length)
        }
      })().finally(() => { q.running = undefined })
    }
  }

  /** libp2p when a trusted descriptor announces this witness, else HTTP when the policy gives a URL. */
  #transport (w: PolicyWitness): WitnessTransport | undefined {
    const peer = this.#o.peerTransport(w)
    if (peer !== undefined) return peer
    if (w.url !== undefined && /^https?:\/\//.test(w.url)) return httpWitnessTransport(w.url, this.#o.timeoutMs)
    return undefined
  }

  /** One witness's answer for `cp`, added to the latest checkpoint's cosignatures if `cp` is still the latest. */
  async #askWitness (w: PolicyWitness, cp: PublishedCheckpoint, targets: number): Promise<void> {
    const transport = this.#transport(w)
    let sig: NoteSignature | undefined
    if (transport !== undefined) {
      try {
        sig = await this.#client.cosign(w, transport, { note: cp.note, size: cp.size })
        this.#o.metrics?.cosignatures.inc({ witness: w.name, outcome: 'ok' })
      } catch (err) {
        this.#o.metrics?.cosignatures.inc({ witness: w.name, outcome: isScittError(err) ? err.code : 'error' })
        const known = isScittError(err, 'CONFLICT') ? err.details?.knownSize : undefined
        if (typeof known === 'number' && known > cp.size) this.#o.onLargerHistory(`witness ${w.name} has cosigned size ${known} of this log, which holds ${cp.size}: the data dir lost or rolled back entries`)
        this.#o.logger.warn({ witness: w.name, size: cp.size, err: (err as Error).message }, 'witness did not cosign')
      }
    }
    const round = this.#round
    const cosigned = this.#cosigned
    if (this.#stopped || round?.size !== cp.size || cosigned?.size !== cp.size || this.#o.log.latestCheckpoint()?.size !== cp.size) return // superseded
    round.answered++
    if (sig !== undefined && !cosigned.signatures.some((s) => s.name === sig.name && s.keyId === sig.keyId)) {
      cosigned.signatures = [...cosigned.signatures, sig]
      cosigned.note = formatNote(cosigned)
    }
    const quorum = this.#o.trust.quorum(cosigned).ok
    if (quorum && !round.quorum) {
      round.quorum = true
      this.#o.metrics?.quorumSeconds.observe((this.#o.now() - round.started) / 1000)
      this.#o.onQuorum(cosigned.note, cp.size)
    }
    if ((quorum && sig !== undefined) || (!quorum && round.answered === targets && cosigned.note !== cp.note)) this.#o.onCosigned(cosigned.note, cp)
  }
}
