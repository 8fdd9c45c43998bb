/**
 * The federation service of a node: joins `/scitt/<name>` over libp2p and runs its parts, started in
 * this order and stopped in reverse:
 * - protocols.ts: the request/answer protocols (add-checkpoint, consistency, head, log-data);
 * - gossip.ts: the checkpoints, evidence and announce topics and their validators;
 * - directory.ts: the peers' signed descriptors, this node's announce, the connections;
 * - cosigning.ts: asking the policy's witnesses to cosign each checkpoint of the node's log;
 * - heads.ts: the latest verified head per origin; auditor.ts: consistency checks and evidence;
 * - the node as a witness (../witness/witness.ts) for the origins its policy knows.
 * This class builds the parts, wires what one tells another, and answers status queries.
 */
import type { PeerId } from '@libp2p/interface'
import { TopicValidatorResult } from '@libp2p/gossipsub'
import {
  fromUtf8, isValidKeyName, malformed, parseCheckpoint, parseNote, utf8, verifyNote,
  type NoteSigner, type NoteVerifier, type PolicyWitness,
} from '@scitt/core'
import type { Log, PublishedCheckpoint } from '@scitt/log'
import type { HeldLogs } from '../held-logs.js'
import type { Logger } from '../logger.js'
import { createNetwork, type Network } from '../p2p/network.js'
import type { FederationDb } from '../witness/store.js'
import { Witness, type WitnessResponse } from '../witness/witness.js'
import type { WitnessLimits } from '../witness/witness-limits.js'
import type { ReadBudget } from '../read-budget.js'
import type { WitnessTransport } from '../witness/witness-client.js'
import { WitnessStore } from '../witness/witness-store.js'
import { Auditor } from './auditor.js'
import { Cosigning } from './cosigning.js'
import type { Descriptor } from './descriptor.js'
import { PeerDirectory } from './directory.js'
import { EvidenceStore, type Evidence } from './equivocation.js'
import { Gossip, topicIds, verdictFor, type Topics } from './gossip.js'
import { Heads } from './heads.js'
import { decodeLogDataAnswer, encodeLogDataRequest, serveLogData } from './log-data.js'
import { serveLogDataWithin } from './log-data-reads.js'
import type { FederationMetrics } from './metrics.js'
import { Protocols, type ProtocolIds } from './protocols.js'
import type { TrustPolicy } from './trust.js'
import { decodeCheckpointMessage, decodeHeadAnswer, decodeWitnessAnswer, encodeCheckpointMessage, encodeHeadAnswer, encodeWitnessAnswer } from './wire.js'

/** The longest checkpoint text a head is kept for (a checkpoint is ~100–300 bytes; extension lines are rare). */
const MAX_HEAD_TEXT = 8 * 1024

export interface FederationOptions {
  /** Federation name: topics and protocols under `/scitt/<name>/`. */
  name: string
  log: Log
  /** The node's log key: signs descriptors. */
  logSigner: NoteSigner
  /** The node's log key, to verify its own checkpoints when the policy does not list it. */
  logVerifier: NoteVerifier
  /** cosignature/v1 signer (the node's witness key); the node witnesses the policy's origins when set. */
  witnessSigner?: NoteSigner
  /** The node's witness vkey, announced in its descriptor. */
  witnessVkey?: string
  /** The node's receipt key (encoded COSE_Key), announced in its descriptor. */
  receiptKey?: Uint8Array
  trust: TrustPolicy
  db: FederationDb
  /** The logs the node holds: the federation registers its own; the others are served from here too. */
  held: HeldLogs
  peerSeed: Uint8Array
  listen: string[]
  bootstrap: string[]
  httpUrl?: string
  sector?: string
  roles: string[]
  /** Other origins this node mirrors (announced in its descriptor). */
  mirrors?: string[]
  /** Admission of add-checkpoint requests per peer id (limits.addCheckpoint); undefined: unlimited. */
  witnessLimits?: WitnessLimits
  /** Admission of log-data reads per peer id (limits.read); undefined: unlimited. */
  readBudget?: ReadBudget
  /** Whether the node's log fsyncs each batch before acknowledging it (shown in the status). */
  logSync?: boolean
  logger: Logger
  metrics?: FederationMetrics
  /** Gossipsub heartbeat (ms). */
  heartbeatMs: number
  /** Re-announce period (ms; each re-announce falls at random within ±50 % of it). */
  announceMs: number
  /** Request/response timeout (ms). */
  timeoutMs: number
  /** Clock, ms since the epoch (cosignature timestamps are its seconds). */
  now?: () => number
}

export type FederationEvent =
  | { type: 'head', origin: string, size: number }
  | { type: 'quorum', size: number, note: string }
  | { type: 'evidence', id: string, evidence: Evidence }
  | { type: 'descriptor', descriptor: Descriptor, signed: Uint8Array }
  /** Signed evidence that this node's log once held more than it holds now (history-guard.ts). */
  | { type: 'larger-history', reason: string }

export class Federation {
  readonly name: string
  readonly network: Network
  readonly heads = new Heads()
  readonly evidence: EvidenceStore
  readonly witness: Witness | undefined
  readonly topics: Topics
  readonly protocols: ProtocolIds
  readonly directory: PeerDirectory
  readonly #o: FederationOptions
  readonly #now: () => number
  readonly #rpc: Protocols
  readonly #gossip: Gossip
  readonly #cosigning: Cosigning
  readonly #auditor: Auditor
  readonly #listeners: Array<(event: FederationEvent) => void> = []
  #unsubscribe: (() => void) | undefined
  #stopped = false

  private constructor (o: FederationOptions, network: Network, evidence: EvidenceStore) {
    this.#o = o
    this.name = o.name
    this.network = network
    this.evidence = evidence
    this.#now = o.now ?? Date.now
    this.#rpc = new Protocols(network, o.name, o.timeoutMs)
    this.protocols = this.#rpc.ids
    this.#gossip = new Gossip(network, o.name, o.logger, o.metrics)
    this.topics = this.#gossip.topics
    this.directory = new PeerDirectory({
      network,
      own: {
        origin: this.origin,
        roles: o.roles,
        ...(o.witnessVkey === undefined ? {} : { witnessVkey: o.witnessVkey }),
        ...(o.receiptKey === undefined ? {} : { receiptKey: o.receiptKey }),
        ...(o.httpUrl === undefined ? {} : { httpUrl: o.httpUrl }),
        ...(o.sector === undefined ? {} : { sector: o.sector }),
        ...(o.mirrors === undefined ? {} : { mirrors: o.mirrors }),
      },
      logSigner: o.logSigner,
      keysFor: this.#keysFor,
      publish: async (signed) => { await this.#gossip.publish('announce', signed) },
      onDescriptor: (d, signed, first) => { this.#onDescriptor(d, signed, first) },
      announceMs: o.announceMs,
      timeoutMs: o.timeoutMs,
      logger: o.logger,
      now: this.#now,
    })
    this.#cosigning = new Cosigning({
      log: o.log,
      trust: o.trust,
      witnessVkey: o.witnessVkey,
      peerTransport: (w) => this.#witnessTransport(w),
      onCosigned: (note, cp) => { this.#spread(note, cp) },
      onQuorum: (note, size) => { this.#emit({ type: 'quorum', size, note }) },
      onLargerHistory: (reason) => { this.#emit({ type: 'larger-history', reason }) },
      rewitnessMs: o.announceMs / 2,
      timeoutMs: o.timeoutMs,
      logger: o.logger,
      metrics: o.metrics,
      now: this.#now,
    })
    this.#auditor = new Auditor({
      origin: this.origin,
      log: o.log,
      held: o.held,
      directory: this.directory,
      protocols: this.#rpc,
      evidence,
      keysFor: this.#keysFor,
      publish: async (data) => { await this.#gossip.publish('evidence', data) },
      onEvidence: (id, e) => { this.#emit({ type: 'evidence', id, evidence: e }) },
      peerId: () => this.peerId,
      logger: o.logger,
      metrics: o.metrics,
    })
    if (o.witnessSigner !== undefined) {
      this.witness = new Witness({
        store: new WitnessStore(o.db),
        cosigner: o.witnessSigner,
        logKeys: (origin) => (origin === this.origin ? [] : o.trust.logVerifiers(origin)),
        refuses: (origin) => evidence.against(origin),
        onConflict: (origin, a, b) => { void this.#auditor.conflict(origin, a, b) },
      })
    }
  }

  static async start (o: FederationOptions): Promise<Federation> {
    const evidence = new EvidenceStore(o.db)
    await evidence.load()
    const topics = topicIds(o.name)
    const network = await createNetwork({
      peerSeed: o.peerSeed,
      listen: o.listen,
      bootstrap: o.bootstrap,
      scoredTopics: Object.values(topics),
      heartbeatMs: o.heartbeatMs,
    })
    const f = new Federation(o, network, evidence)
    try {
      await f.#start()
    } catch (err) {
      await f.stop()
      throw err
    }
    return f
  }

  async #start (): Promise<void> {
    const o = this.#o
    o.held.add({ origin: this.origin, log: o.log, checkpointNote: () => this.cosignedCheckpoint() ?? o.log.latestCheckpoint()?.note, descriptor: () => this.directory.own })
    await this.#rpc.serve({
      addCheckpoint: async (body, peer) => {
        const witness = this.witness
        if (witness === undefined) return encodeWitnessAnswer(404, 'text/plain', 'not a witness\n')
        const work = async (): Promise<WitnessResponse> => await witness.addCheckpoint(body)
        const answer = o.witnessLimits === undefined ? await work() : await o.witnessLimits.run(peer.toString(), work)
        o.metrics?.witnessRequests.inc({ status: answer.status })
        return encodeWitnessAnswer(answer.status, answer.contentType, answer.body)
      },
      consistency: async (body) => await this.#auditor.serveConsistency(body),
      head: async (body) => this.#serveHead(body),
      logData: async (body, peer) => {
        const holdings = { log: (origin: string) => o.held.get(origin)?.log, descriptor: (origin: string) => o.held.get(origin)?.descriptor() }
        return o.readBudget === undefined ? await serveLogData(body, holdings) : await serveLogDataWithin(body, holdings, o.readBudget, peer.toString())
      },
    })
    this.#gossip.listen({
      checkpoints: (data, from) => this.#takeHead(decodeCheckpointMessage(data).note, from),
      evidence: (data) => this.#auditor.accept(data),
      announce: (data) => this.directory.accept(data),
    })
    this.#unsubscribe = o.log.onCheckpoint((cp) => { this.#onOwnCheckpoint(cp) })
    const latest = o.log.latestCheckpoint()
    if (latest !== undefined) this.#onOwnCheckpoint(latest)
    await this.directory.start()
  }

  /**
   * Leaves the network. What is under way first gets up to `settleMs` (default: the request timeout)
   * to finish: the gossip of the latest checkpoint (the node's last, when it is stopping) and its
   * cosigning.
   */
  async stop (settleMs = this.#o.timeoutMs): Promise<void> {
    if (this.#stopped) return
    let timer: ReturnType<typeof setTimeout> | undefined
    await Promise.race([
      Promise.allSettled([this.#gossip.settled(), ...this.#cosigning.running()]),
      new Promise((resolve) => { timer = setTimeout(resolve, settleMs) }),
    ])
    clearTimeout(timer)
    this.#stopped = true
    this.directory.stop()
    this.#unsubscribe?.()
    this.#gossip.stop()
    await this.#cosigning.stop()
    await this.network.stop()
  }

  get origin (): string {
    return this.#o.logVerifier.name
  }

  get peerId (): string {
    return this.network.peerId.toString()
  }

  get multiaddrs (): string[] {
    return this.network.getMultiaddrs().map((a) => a.toString())
  }

  /** The latest checkpoint of the node's log with the cosignatures gathered so far (undefined until it has one). */
  cosignedCheckpoint (): string | undefined {
    return this.#cosigning.note()
  }

  /** One log-data resource from a peer (log-data.ts); NOT_FOUND when the peer refused. */
  async logData (peer: string, origin: string, resource: string): Promise<Uint8Array> {
    return decodeLogDataAnswer(await this.#rpc.ask(peer, 'logData', encodeLogDataRequest(origin, resource)))
  }

  on (listener: (event: FederationEvent) => void): () => void {
    this.#listeners.push(listener)
    return () => { this.#listeners.splice(this.#listeners.indexOf(listener), 1) }
  }

  #emit (event: FederationEvent): void {
    for (const l of [...this.#listeners]) l(event)
  }

  #keysFor = (origin: string): NoteVerifier[] => {
    const keys = this.#o.trust.logVerifiers(origin)
    return keys.length === 0 && origin === this.origin ? [this.#o.logVerifier] : keys
  }

  // ---- the node's own checkpoints ----

  #onOwnCheckpoint (cp: PublishedCheckpoint): void {
    if (this.#stopped) return
    this.#cosigning.checkpoint(cp)
    this.#spread(cp.note, cp)
  }

  /** Takes a note of the node's own log as a head and gossips it (not awaited: the next witness request goes at once). */
  #spread (note: string, cp: PublishedCheckpoint): void {
    this.#verdict(note)
    void this.#gossip.publish('checkpoints', encodeCheckpointMessage({ note, seal: cp.seal }))
  }

  /** The libp2p transport to a witness that a trusted descriptor announces. */
  #witnessTransport (w: PolicyWitness): WitnessTransport | undefined {
    const peer = this.directory.witnessPeer(w)
    if (peer === undefined) return undefined
    return async (body) => decodeWitnessAnswer(await this.#rpc.ask(peer, 'addCheckpoint', utf8(body)))
  }

  #onDescriptor (d: Descriptor, signed: Uint8Array, first: boolean): void {
    this.#emit({ type: 'descriptor', descriptor: d, signed })
    if (d.witness !== undefined) this.#cosigning.rewitness()
    if (first) void this.#catchUp(d)
  }

  // ---- heads ----

  /**
   * The checkpoints topic's validator (and the way every head comes in): keeps the verified part of a
   * note signed by a log key of its origin; a second root for a known size becomes evidence, a new
   * size is checked for consistency with the previous one.
   */
  #takeHead (note: string, from?: PeerId): TopicValidatorResult {
    const parsed = parseNote(note)
    const checkpoint = parseCheckpoint(parsed.text)
    const keys = this.#keysFor(checkpoint.origin)
    if (keys.length === 0 || parsed.text.length > MAX_HEAD_TEXT) return TopicValidatorResult.Ignore
    const signatures = verifyNote(parsed, [...keys, ...this.#o.trust.witnessVerifiers()])
    if (!signatures.some((s) => keys.some((k) => k.name === s.name && k.keyId === s.keyId))) return TopicValidatorResult.Reject
    const update = this.heads.take({ checkpoint, text: parsed.text, signatures }, (n) => this.#o.trust.judgeVerified(n.signatures), this.#now())
    switch (update.kind) {
      case 'conflict':
        void this.#auditor.conflict(checkpoint.origin, update.previous.note, note)
        return TopicValidatorResult.Accept
      case 'cosigned':
        this.#emit({ type: 'head', origin: checkpoint.origin, size: checkpoint.size })
        return TopicValidatorResult.Accept
      case 'new':
        if (checkpoint.origin === this.origin && checkpoint.size > (this.#o.log.latestCheckpoint()?.size ?? 0)) {
          this.#emit({ type: 'larger-history', reason: `a peer relayed a checkpoint of this log at size ${checkpoint.size}, signed by its key, beyond the ${this.#o.log.latestCheckpoint()?.size ?? 0} it holds: the data dir lost or rolled back entries` })
        }
        this.#emit({ type: 'head', origin: checkpoint.origin, size: checkpoint.size })
        if (update.previous !== undefined) void this.#auditor.checkConsistency(update.previous.note, update.head.note, from)
        return TopicValidatorResult.Accept
      case 'stale':
        void this.#auditor.checkConsistency(note, update.latest.note, from)
        return TopicValidatorResult.Ignore
      case 'known':
        return TopicValidatorResult.Ignore
    }
  }

  /** `#takeHead` outside gossip: an error becomes its verdict, as in a validator. */
  #verdict (note: string): TopicValidatorResult {
    try {
      return this.#takeHead(note)
    } catch (err) {
      return verdictFor(err)
    }
  }

  /** The head protocol: request = origin name; answer = the latest checkpoint message this node has for it. */
  #serveHead (body: Uint8Array): Uint8Array {
    const origin = fromUtf8(body)
    if (!isValidKeyName(origin)) throw malformed('head request: bad origin')
    if (origin === this.origin) {
      const own = this.#o.log.latestCheckpoint()
      return encodeHeadAnswer(own === undefined ? undefined : { note: this.cosignedCheckpoint() ?? own.note, seal: own.seal })
    }
    const head = this.heads.latest(origin)
    return encodeHeadAnswer(head === undefined ? undefined : { note: head.note, seal: undefined })
  }

  /**
   * Catch-up (a node that joins or restarts has missed the heads gossiped meanwhile): asks a newly
   * announced peer for its origin's latest head, or, when the directory did not connect to it, a peer
   * it is connected to (any node answers with the latest head it has), and takes the answer exactly
   * like a gossiped one.
   */
  async #catchUp (d: Descriptor): Promise<void> {
    if (this.#stopped) return
    const connected = this.network.getConnections()
    const peer = connected.length === 0 || connected.some((c) => c.remotePeer.toString() === d.peer)
      ? d.peer
      : connected[Math.floor(Math.random() * connected.length)]!.remotePeer.toString()
    try {
      const message = decodeHeadAnswer(await this.#rpc.ask(peer, 'head', utf8(d.origin)))
      if (message === undefined || this.#stopped) return
      if (this.#verdict(message.note) === TopicValidatorResult.Reject) this.#o.logger.warn({ peer, origin: d.origin }, 'peer answered a head with an invalid checkpoint')
    } catch (err) {
      this.#o.logger.debug({ peer, origin: d.origin, err: (err as Error).message }, 'could not fetch the head of an announced origin')
    }
  }

  // ---- status ----

  evidenceJson (): unknown {
    return this.evidence.list().map(({ id, evidence }) => ({ id, ...evidence }))
  }

  statusJson (): unknown {
    return {
      federation: this.name,
      origin: this.origin,
      log: { size: this.#o.log.latestCheckpoint()?.size ?? 0, sync: this.#o.logSync ?? true },
      peerId: this.peerId,
      multiaddrs: this.multiaddrs,
      peers: this.network.getPeers().map((p) => p.toString()),
      announced: this.directory.statusJson(),
      origins: this.heads.all().map((h) => ({
        ...Heads.json(h),
        peers: this.directory.holders(h.origin),
        equivocated: this.evidence.against(h.origin) ?? null,
      })),
      witnesses: this.#o.trust.witnesses.map((w) => ({
        name: w.name,
        vkey: w.vkey,
        self: w.vkey === this.#o.witnessVkey,
        cosignedSize: this.#cosigning.knownSize(w.name) ?? null,
      })),
      witnessing: this.witness === undefined ? [] : this.#o.trust.origins.filter((o) => o !== this.origin),
      evidence: this.evidence.list().map(({ id, evidence }) => ({ id, origin: evidence.origin, kind: evidence.kind })),
    }
  }
}
