/**
 * The federation service of a node (architecture.md "How data flows" 3–5): joins `scitt/<name>` over
 * libp2p, announces a signed descriptor, publishes every checkpoint of the node's log, asks the policy's
 * witnesses to cosign it (libp2p peers found through their descriptors, or HTTP for external C2SP
 * witnesses), re-publishes the cosigned checkpoint, acts as a witness for the origins its policy knows,
 * validates every gossiped head, and turns a validly signed conflict into stored, published evidence.
 */
import { peerIdFromString } from '@libp2p/peer-id'
import { multiaddr } from '@multiformats/multiaddr'
import type { PeerId } from '@libp2p/interface'
import { TopicValidatorResult, type Message } from '@libp2p/gossipsub'
import {
  equalBytes, formatNote, fromUtf8, isValidKeyName, malformed, toBase64Url, utf8, isScittError, openNote, parseCheckpoint, parseNote, toHex, verifyConsistency,
  MAX_ADD_CHECKPOINT_REQUEST_SIZE, type Checkpoint, type NoteSignature, type NoteSigner, type NoteVerifier, type PolicyWitness,
} from '@scitt/core'
import type { Log, PublishedCheckpoint } from '@scitt/log'
import type { Logger } from '../logger.js'
import { MAX_LOG_DATA_ANSWER, MAX_LOG_DATA_REQUEST, serveLogData } from '../mirror/log-data.js'
import { createNetwork, type Network } from '../p2p/network.js'
import { handleRequests, request, type ExchangeLimits } from '../p2p/protocols.js'
import type { FederationDb } from '../witness/store.js'
import { Witness } from '../witness/witness.js'
import { WitnessClient, httpWitnessTransport, type WitnessTransport } from '../witness/witness-client.js'
import { WitnessStore } from '../witness/witness-store.js'
import { openDescriptor, signDescriptor, type Descriptor } from './descriptor.js'
import { EvidenceStore, buildEvidence, encodeEvidence, evidenceId, openEvidence, type Attempt, type Evidence } from './equivocation.js'
import { Heads, type Head } from './heads.js'
import type { FederationMetrics } from './metrics.js'
import type { TrustPolicy } from './trust.js'
import {
  MAX_CHECKPOINT_MESSAGE, decodeCheckpointMessage, decodeConsistencyAnswer, decodeConsistencyRequest, decodeWitnessAnswer,
  encodeCheckpointMessage, encodeConsistencyAnswer, encodeConsistencyRequest, encodeWitnessAnswer,
} from './wire.js'

export interface FederationOptions {
  /** Federation name: topics `/scitt/<name>/...`. */
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
  peerSeed: Uint8Array
  listen: string[]
  bootstrap: string[]
  httpUrl?: string
  sector?: string
  roles: string[]
  /** Other origins this node mirrors (announced in its descriptor). */
  mirrors?: string[]
  /** The log of another origin that this node holds (its mirrors), served over the log-data protocol. */
  heldLog?: (origin: string) => Log | undefined
  /** The signed descriptor this node keeps for an origin it mirrors, served over the log-data protocol. */
  heldDescriptor?: (origin: string) => Uint8Array | undefined
  logger: Logger
  metrics?: FederationMetrics
  /** Gossipsub heartbeat (ms). */
  heartbeatMs?: number
  /** Re-announce period (ms, default 10 000; each re-announce falls at random within ±50 % of it). */
  announceMs?: number
  /** Request/response timeout (ms, default 5 000). */
  timeoutMs?: number
  /** Clock, ms since the epoch (cosignature timestamps are its seconds). */
  now?: () => number
}

const RECENT_CHECKS = 1024

export class Federation {
  readonly name: string
  readonly network: Network
  readonly heads = new Heads()
  readonly evidence: EvidenceStore
  readonly witness: Witness | undefined
  readonly topics: { checkpoints: string, evidence: string, announce: string }
  readonly protocols: { addCheckpoint: string, consistency: string, head: string, logData: string }
  readonly #o: FederationOptions
  readonly #client: WitnessClient
  readonly #limits: ExchangeLimits
  readonly #now: () => number
  /** Descriptors by origin, then by peer id. */
  readonly #descriptors = new Map<string, Map<string, Descriptor>>()
  readonly #checked = new Set<string>()
  readonly #unsubscribe: () => void
  #cosigned: string | undefined
  /** Per policy witness (by name): the latest checkpoint to ask it to cosign, and its request loop. */
  readonly #witnessQueues = new Map<string, { pending: PublishedCheckpoint | undefined, running: Promise<void> | undefined }>()
  /** The cosigning of the latest checkpoint: answers so far and whether the quorum was reached. */
  #round: { size: number, started: number, answered: number, quorum: boolean } | undefined
  readonly #publishing = new Set<Promise<void>>()
  #ownDescriptor: Uint8Array | undefined
  /** The latest signed descriptor per origin. */
  readonly #signedDescriptors = new Map<string, { time: number, signed: Uint8Array }>()
  #rewitnessedAt = 0
  #announceTimer: ReturnType<typeof setTimeout> | undefined
  #announceSoon: ReturnType<typeof setTimeout> | undefined
  #stopped = false
  readonly #listeners: Array<(event: FederationEvent) => void> = []

  private constructor (o: FederationOptions, network: Network, evidence: EvidenceStore) {
    this.#o = o
    this.name = o.name
    this.network = network
    this.evidence = evidence
    this.#now = o.now ?? Date.now
    const base = `/scitt/${o.name}`
    this.topics = { checkpoints: `${base}/checkpoints/1`, evidence: `${base}/evidence/1`, announce: `${base}/announce/1` }
    this.protocols = { addCheckpoint: `${base}/add-checkpoint/1`, consistency: `${base}/consistency/1`, head: `${base}/head/1`, logData: `${base}/log-data/1` }
    this.#limits = { maxRequestBytes: MAX_ADD_CHECKPOINT_REQUEST_SIZE, maxResponseBytes: 64 * 1024, timeoutMs: o.timeoutMs ?? 5000 }
    this.#client = new WitnessClient((a, b) => o.log.consistencyProof(a, b))
    if (o.witnessSigner !== undefined) {
      this.witness = new Witness({
        store: new WitnessStore(o.db),
        cosigner: o.witnessSigner,
        logVerifier: (origin) => (origin === this.origin ? undefined : o.trust.logVerifiers(origin)[0]),
        refuses: (origin) => evidence.against(origin),
        onConflict: (origin, a, b) => { void this.#evidenceFromPair(origin, a, b) },
      })
    }
    this.#unsubscribe = o.log.onCheckpoint((cp) => { this.#onOwnCheckpoint(cp) })
  }

  static async start (o: FederationOptions): Promise<Federation> {
    const evidence = new EvidenceStore(o.db)
    await evidence.load()
    const topicsBase = `/scitt/${o.name}`
    const network = await createNetwork({
      peerSeed: o.peerSeed,
      listen: o.listen,
      bootstrap: o.bootstrap,
      scoredTopics: [`${topicsBase}/checkpoints/1`, `${topicsBase}/evidence/1`, `${topicsBase}/announce/1`],
      ...(o.heartbeatMs === undefined ? {} : { heartbeatMs: o.heartbeatMs }),
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
    const latest = this.#o.log.latestCheckpoint()
    if (this.#cosigned === undefined || latest === undefined) return undefined
    return parseCheckpoint(parseNote(this.#cosigned).text).size === latest.size ? this.#cosigned : undefined
  }

  on (listener: (event: FederationEvent) => void): () => void {
    this.#listeners.push(listener)
    return () => { this.#listeners.splice(this.#listeners.indexOf(listener), 1) }
  }

  async #start (): Promise<void> {
    const pubsub = this.network.services.pubsub
    for (const [topic, validate] of [
      [this.topics.checkpoints, (m: Message, from: PeerId) => this.#validateCheckpoint(m.data, from)],
      [this.topics.evidence, (m: Message) => this.#validateEvidence(m.data)],
      [this.topics.announce, (m: Message) => this.#validateAnnounce(m.data)],
    ] as const) {
      pubsub.topicValidators.set(topic, async (from, m) => {
        const verdict = await validate(m, from)
        this.#o.metrics?.gossip.inc({ topic: topic.split('/')[3] ?? topic, verdict })
        return verdict
      })
      pubsub.subscribe(topic)
    }
    await handleRequests(this.network, this.protocols.addCheckpoint, async (body) => {
      if (this.witness === undefined) return encodeWitnessAnswer(404, 'text/plain', 'not a witness\n')
      const answer = await this.witness.addCheckpoint(body)
      this.#o.metrics?.witnessRequests.inc({ status: answer.status })
      return encodeWitnessAnswer(answer.status, answer.contentType, answer.body)
    }, this.#limits)
    await handleRequests(this.network, this.protocols.consistency, async (body) => encodeConsistencyAnswer(await this.#serveConsistency(body)), { ...this.#limits, maxRequestBytes: 1024, maxResponseBytes: 8 * 1024 })
    await handleRequests(this.network, this.protocols.head, async (body) => this.#serveHead(body), { ...this.#limits, maxRequestBytes: 1024, maxResponseBytes: MAX_CHECKPOINT_MESSAGE })
    await handleRequests(this.network, this.protocols.logData, async (body) => serveLogData(body, {
      log: (origin) => (origin === this.origin ? this.#o.log : this.#o.heldLog?.(origin)),
      descriptor: (origin) => (origin === this.origin ? this.#ownDescriptor : this.#o.heldDescriptor?.(origin)),
    }), { ...this.#limits, maxRequestBytes: MAX_LOG_DATA_REQUEST, maxResponseBytes: MAX_LOG_DATA_ANSWER })
    // A peer (re)subscribed: announce soon, once for a burst (n joining peers would otherwise cost n² announces).
    pubsub.addEventListener('subscription-change', () => {
      this.#announceSoon ??= setTimeout(() => { this.#announceSoon = undefined; void this.#announce() }, 100)
    })
    this.#scheduleAnnounce()
    const latest = this.#o.log.latestCheckpoint()
    if (latest !== undefined) this.#onOwnCheckpoint(latest)
    await this.#announce()
  }

  /**
   * Leaves the network. What is under way first gets up to `settleMs` (default: the request timeout)
   * to finish: the gossip of the latest checkpoint (the node's last, when it is stopping) and its
   * cosigning.
   */
  async stop (settleMs = this.#limits.timeoutMs): Promise<void> {
    if (this.#stopped) return
    let timer: ReturnType<typeof setTimeout> | undefined
    await Promise.race([
      Promise.allSettled([...this.#publishing, ...this.#witnessRequests()]),
      new Promise((resolve) => { timer = setTimeout(resolve, settleMs) }),
    ])
    clearTimeout(timer)
    this.#stopped = true
    clearTimeout(this.#announceTimer)
    clearTimeout(this.#announceSoon)
    this.#unsubscribe()
    await Promise.allSettled(this.#witnessRequests())
    await this.network.stop()
  }

  // ---- publishing and cross-witnessing of the node's own checkpoints ----

  #onOwnCheckpoint (cp: PublishedCheckpoint): void {
    if (this.#stopped) return
    this.#cosigned = cp.note
    this.#observe(cp.note, parseCheckpoint(parseNote(cp.note).text))
    void this.#publish(this.topics.checkpoints, encodeCheckpointMessage({ note: cp.note, seal: cp.seal }))
    this.#askWitnesses(cp)
  }

  /**
   * A witness announced itself (it may have just joined or restarted): ask again for the latest
   * checkpoint if it lacks the quorum, at most once per announce period.
   */
  #rewitness (): void {
    const latest = this.#o.log.latestCheckpoint()
    if (latest === undefined || this.#stopped || this.#cosigned === undefined) return
    if (this.#o.trust.quorum(parseNote(this.#cosigned)).ok) return
    if (this.#now() - this.#rewitnessedAt < (this.#o.announceMs ?? 10_000) / 2) return
    this.#rewitnessedAt = this.#now()
    this.#askWitnesses(latest)
  }

  /**
   * Asks every policy witness (but this node) to cosign `cp`. Each witness has its own queue, one
   * request at a time and the latest checkpoint only, so a slow or unreachable witness delays nobody
   * else and a newer checkpoint supersedes an older one still waiting for that witness.
   */
  #askWitnesses (cp: PublishedCheckpoint): void {
    const targets = this.#o.trust.witnesses.filter((w) => w.vkey !== this.#o.witnessVkey)
    if (this.#round?.size !== cp.size) this.#round = { size: cp.size, started: this.#now(), answered: 0, quorum: false }
    for (const w of targets) {
      let queue = this.#witnessQueues.get(w.name)
      if (queue === undefined) this.#witnessQueues.set(w.name, queue = { pending: undefined, running: undefined })
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

  #witnessRequests (): Array<Promise<void>> {
    return [...this.#witnessQueues.values()].flatMap((q) => (q.running === undefined ? [] : [q.running]))
  }

  /** One witness's answer for `cp`, added to the latest checkpoint's cosignatures if `cp` is still the latest. */
  async #askWitness (w: PolicyWitness, cp: PublishedCheckpoint, targets: number): Promise<void> {
    const transport = this.#transportFor(w)
    let sig: NoteSignature | undefined
    if (transport !== undefined) {
      try {
        sig = await this.#client.cosign(w, transport, { note: cp.note, size: cp.size })
        this.#o.metrics?.cosignatures.inc({ witness: w.name, outcome: 'ok' })
      } catch (err) {
        this.#o.metrics?.cosignatures.inc({ witness: w.name, outcome: isScittError(err) ? err.code : 'error' })
        this.#o.logger.warn({ witness: w.name, size: cp.size, err: (err as Error).message }, 'witness did not cosign')
      }
    }
    const round = this.#round
    if (this.#stopped || round?.size !== cp.size || this.#o.log.latestCheckpoint()?.size !== cp.size) return // superseded
    round.answered++
    const note = sig === undefined ? this.#cosigned ?? cp.note : this.#withCosignatures(this.#cosigned ?? cp.note, [sig])
    this.#cosigned = note
    const quorum = this.#o.trust.quorum(parseNote(note)).ok
    if (quorum && !round.quorum) {
      round.quorum = true
      this.#o.metrics?.quorumSeconds.observe((this.#now() - round.started) / 1000)
      this.#emit({ type: 'quorum', size: cp.size, note })
    }
    // Gossip the cosigned checkpoint as soon as it meets the quorum (and again as cosignatures add up),
    // or once every witness answered without a quorum (what it has is still worth spreading).
    if ((quorum && sig !== undefined) || (!quorum && round.answered === targets && note !== cp.note)) {
      this.#observe(note, parseCheckpoint(parseNote(note).text))
      void this.#publish(this.topics.checkpoints, encodeCheckpointMessage({ note, seal: cp.seal })) // not awaited: the witness's next request goes at once
    }
  }

  #withCosignatures (note: string, sigs: NoteSignature[]): string {
    const parsed = parseNote(note)
    const have = new Set(parsed.signatures.map((s) => `${s.name} ${s.keyId}`))
    return formatNote({ text: parsed.text, signatures: [...parsed.signatures, ...sigs.filter((s) => !have.has(`${s.name} ${s.keyId}`))] })
  }

  /** libp2p when a trusted descriptor announces this witness key, else HTTP when the policy has a URL. */
  #transportFor (w: PolicyWitness): WitnessTransport | undefined {
    for (const byPeer of this.#descriptors.values()) {
      for (const d of byPeer.values()) {
        if (d.witness === w.vkey) {
          const peer = peerIdFromString(d.peer)
          return async (body) => decodeWitnessAnswer(await request(this.network, peer, this.protocols.addCheckpoint, new TextEncoder().encode(body), this.#limits))
        }
      }
    }
    if (w.url !== undefined && /^https?:\/\//.test(w.url)) return httpWitnessTransport(w.url, this.#limits.timeoutMs)
    return undefined
  }

  async #publish (topic: string, data: Uint8Array): Promise<void> {
    if (this.#stopped) return
    const publishing = this.network.services.pubsub.publish(topic, data).then(() => {}, (err: unknown) => {
      this.#o.logger.debug({ topic, err: (err as Error).message }, 'publish failed')
    })
    this.#publishing.add(publishing)
    await publishing
    this.#publishing.delete(publishing)
  }

  /**
   * The next periodic announce, at a random point within ±50 % of the announce period, so that nodes
   * started together do not all announce (and all verify each other's descriptors) in the same instant.
   */
  #scheduleAnnounce (): void {
    if (this.#stopped) return
    this.#announceTimer = setTimeout(() => {
      this.#scheduleAnnounce()
      void this.#announce()
    }, (this.#o.announceMs ?? 10_000) * (0.5 + Math.random()))
    this.#announceTimer.unref()
  }

  async #announce (): Promise<void> {
    if (this.#stopped) return
    const d: Descriptor = {
      origin: this.origin,
      peer: this.peerId,
      addrs: this.multiaddrs.slice(0, 16),
      roles: this.#o.roles,
      time: Math.floor(this.#now() / 1000),
      ...(this.#o.witnessVkey === undefined ? {} : { witness: this.#o.witnessVkey }),
      ...(this.#o.receiptKey === undefined ? {} : { receiptKey: toBase64Url(this.#o.receiptKey) }),
      ...(this.#o.httpUrl === undefined ? {} : { http: this.#o.httpUrl }),
      ...(this.#o.sector === undefined ? {} : { sector: this.#o.sector }),
      ...(this.#o.mirrors === undefined || this.#o.mirrors.length === 0 ? {} : { mirrors: this.#o.mirrors }),
    }
    this.#ownDescriptor = utf8(signDescriptor(d, this.#o.logSigner))
    await this.#publish(this.topics.announce, this.#ownDescriptor)
  }

  /**
   * The peers that may hold an origin's log: those announcing the origin itself first, then those
   * announcing that they mirror it (each from a descriptor signed by a key the policy trusts).
   */
  peersFor (origin: string): string[] {
    const own = [...(this.#descriptors.get(origin)?.keys() ?? [])]
    const mirrors = [...this.#descriptors.values()].flatMap((m) => [...m.values()]).filter((d) => d.mirrors?.includes(origin) === true).map((d) => d.peer)
    return [...new Set([...own, ...mirrors])].filter((p) => p !== this.peerId)
  }

  /** This node's latest signed descriptor (undefined before its first announce). */
  get ownDescriptor (): Uint8Array | undefined {
    return this.#ownDescriptor
  }

  /** The HTTP URL a peer announced in its trusted descriptor (undefined when it announced none). */
  httpUrlOf (peer: string): string | undefined {
    for (const byPeer of this.#descriptors.values()) {
      const http = byPeer.get(peer)?.http
      if (http !== undefined) return http
    }
    return undefined
  }

  /** The latest trusted descriptor an origin announced, as signed (undefined when none arrived yet). */
  signedDescriptorOf (origin: string): Uint8Array | undefined {
    return this.#signedDescriptors.get(origin)?.signed
  }

  /** Learns a trusted descriptor's addresses and dials it, so that the federation's peers form a mesh. */
  async #connect (d: Descriptor): Promise<void> {
    try {
      const peer = peerIdFromString(d.peer)
      const addrs = d.addrs.map((a) => multiaddr(a))
      await this.network.peerStore.merge(peer, { multiaddrs: addrs })
      if (this.network.getConnections(peer).length === 0 && !this.#stopped) await this.network.dial(peer, { signal: AbortSignal.timeout(this.#limits.timeoutMs) })
    } catch (err) {
      this.#o.logger.debug({ peer: d.peer, err: (err as Error).message }, 'could not dial an announced peer')
    }
  }

  /**
   * Catch-up (a node that joins or restarts has missed the heads gossiped meanwhile): asks a newly
   * announced peer for its origin's latest head and takes the answer exactly like a gossiped one.
   */
  async #catchUp (d: Descriptor): Promise<void> {
    if (this.#stopped) return
    try {
      const peer = peerIdFromString(d.peer)
      const answer = await request(this.network, peer, this.protocols.head, utf8(d.origin), { ...this.#limits, maxRequestBytes: 1024, maxResponseBytes: MAX_CHECKPOINT_MESSAGE })
      if (answer.length === 0 || this.#stopped) return
      const verdict = this.#validateCheckpoint(answer, peer)
      if (verdict === TopicValidatorResult.Reject) this.#o.logger.warn({ peer: d.peer, origin: d.origin }, 'peer answered its head with an invalid checkpoint')
    } catch (err) {
      this.#o.logger.debug({ peer: d.peer, err: (err as Error).message }, 'could not fetch the head of an announced peer')
    }
  }

  /** The head protocol: request = origin name; answer = the latest checkpoint message this node has for it, or nothing. */
  #serveHead (body: Uint8Array): Uint8Array {
    const origin = fromUtf8(body)
    if (!isValidKeyName(origin)) throw malformed('head request: bad origin')
    if (origin === this.origin) {
      const own = this.#o.log.latestCheckpoint()
      if (own === undefined) return new Uint8Array(0)
      return encodeCheckpointMessage({ note: this.cosignedCheckpoint() ?? own.note, seal: own.seal })
    }
    const head = this.heads.latest(origin)
    return head === undefined ? new Uint8Array(0) : encodeCheckpointMessage({ note: head.note, seal: undefined })
  }

  // ---- validation of what peers publish ----

  #keysFor = (origin: string): NoteVerifier[] => {
    const keys = this.#o.trust.logVerifiers(origin)
    return keys.length === 0 && origin === this.origin ? [this.#o.logVerifier] : keys
  }

  #validateAnnounce (data: Uint8Array): TopicValidatorResult {
    try {
      const d = openDescriptor(data, this.#keysFor)
      if (d.peer === this.peerId) return TopicValidatorResult.Ignore
      let byPeer = this.#descriptors.get(d.origin)
      if (byPeer === undefined) this.#descriptors.set(d.origin, byPeer = new Map())
      const known = byPeer.get(d.peer)
      if (known !== undefined && known.time > d.time) return TopicValidatorResult.Ignore
      if (!byPeer.has(d.peer) && byPeer.size >= 16) return TopicValidatorResult.Ignore
      byPeer.set(d.peer, d)
      const latest = this.#signedDescriptors.get(d.origin)
      if (latest === undefined || latest.time <= d.time) this.#signedDescriptors.set(d.origin, { time: d.time, signed: data })
      this.#emit({ type: 'descriptor', descriptor: d, signed: data })
      void this.#connect(d).then(async () => {
        if (d.witness !== undefined) this.#rewitness()
        if (known === undefined) await this.#catchUp(d)
      })
      return TopicValidatorResult.Accept
    } catch (err) {
      return verdictFor(err)
    }
  }

  #validateCheckpoint (data: Uint8Array, from: PeerId): TopicValidatorResult {
    try {
      const { note } = decodeCheckpointMessage(data)
      const parsed = parseNote(note)
      const cp = parseCheckpoint(parsed.text)
      const keys = this.#keysFor(cp.origin)
      if (keys.length === 0) return TopicValidatorResult.Ignore
      const { verified } = openNote(note, [...keys, ...this.#o.trust.witnessVerifiers()])
      if (!verified.some((s) => keys.some((k) => k.name === s.name && k.keyId === s.keyId))) return TopicValidatorResult.Reject
      return this.#observe(note, cp, from)
    } catch (err) {
      return verdictFor(err)
    }
  }

  /** Records a validly signed note; a same-size conflict becomes evidence, other sizes get a consistency check. */
  #observe (note: string, cp: Checkpoint, from?: PeerId): TopicValidatorResult {
    const seen = this.heads.observe(cp)
    const head = (): Head => {
      const q = this.#o.trust.quorum(parseNote(note))
      return { origin: cp.origin, size: cp.size, rootHash: cp.rootHash, note, witnesses: q.witnesses, quorum: q.ok, seenAt: this.#now() }
    }
    switch (seen.kind) {
      case 'conflict':
        void this.#evidenceFromPair(cp.origin, seen.previous.note, note)
        return TopicValidatorResult.Accept
      case 'same': {
        const h = head()
        if (h.witnesses.every((w) => seen.head.witnesses.includes(w))) return TopicValidatorResult.Ignore
        const merged = this.#withCosignatures(seen.head.note, parseNote(note).signatures)
        const q = this.#o.trust.quorum(parseNote(merged))
        this.heads.record({ ...seen.head, note: merged, witnesses: q.witnesses, quorum: q.ok })
        this.#emit({ type: 'head', origin: cp.origin, size: cp.size })
        return TopicValidatorResult.Accept
      }
      case 'new': {
        const previous = this.heads.latest(cp.origin)
        this.heads.record(head())
        this.#emit({ type: 'head', origin: cp.origin, size: cp.size })
        if (previous !== undefined) void this.#checkConsistency(previous.note, note, from)
        return TopicValidatorResult.Accept
      }
      case 'stale': {
        const latest = this.heads.latest(cp.origin)
        if (latest !== undefined) void this.#checkConsistency(note, latest.note, from)
        return TopicValidatorResult.Ignore
      }
    }
  }

  #validateEvidence (data: Uint8Array): TopicValidatorResult {
    try {
      const e = openEvidence(data, this.#keysFor)
      if (this.evidence.has(evidenceId(e))) return TopicValidatorResult.Ignore
      if (e.kind === 'same-size') {
        void this.#record(e)
        return TopicValidatorResult.Accept
      }
      // The weaker kind is not taken on trust: this node runs the consistency check itself.
      void this.#checkConsistency(e.notes[0], e.notes[1])
      return TopicValidatorResult.Ignore
    } catch (err) {
      return verdictFor(err)
    }
  }

  // ---- equivocation ----

  async #evidenceFromPair (origin: string, a: string, b: string): Promise<void> {
    try {
      await this.#record(buildEvidence('same-size', origin, a, b, this.#keysFor(origin)))
    } catch (err) {
      this.#o.logger.warn({ origin, err: (err as Error).message }, 'could not build evidence')
    }
  }

  async #record (e: Evidence): Promise<void> {
    if (!(await this.evidence.add(e))) return
    const id = evidenceId(e)
    this.#o.metrics?.evidence.inc({ kind: e.kind })
    this.#o.logger.error({ origin: e.origin, kind: e.kind, evidence: id }, 'equivocation: the log showed two histories')
    this.#emit({ type: 'evidence', id, evidence: e })
    await this.#publish(this.topics.evidence, encodeEvidence(e))
  }

  /**
   * Checks that `older` (smaller size) and `newer` are consistent with a proof from a mirror this node
   * holds, or fetched from the peers that announce the origin, its mirrors and the peer that relayed
   * the head. Any valid proof settles it. Only the origin's own peers can be held to account: when
   * every one of them answered, wrongly or with a refusal, that becomes `no-consistency-proof`
   * evidence; a refusal from a mirror or a relay (it may not hold those sizes), or network failures,
   * never do.
   */
  async #checkConsistency (noteA: string, noteB: string, relayedBy?: PeerId): Promise<void> {
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
    if (this.#checked.size >= RECENT_CHECKS) this.#checked.clear()
    this.#checked.add(key)
    if (a.origin === this.origin) {
      const own = this.#o.log.latestCheckpoint()
      if (own !== undefined && b.size <= own.size) {
        for (const cp of [{ note: noteA, c: a }, { note: noteB, c: b }]) {
          const mine = await this.#o.log.checkpointAt(cp.c.size).catch(() => undefined)
          if (mine !== undefined && !equalBytes(mine.rootHash, cp.c.rootHash)) await this.#evidenceFromPair(a.origin, mine.note, cp.note)
        }
        return
      }
    }
    const mirrored = this.#o.heldLog?.(a.origin)
    if (mirrored !== undefined && (mirrored.latestCheckpoint()?.size ?? 0) >= b.size) {
      try {
        verifyConsistency(a.size, b.size, a.rootHash, b.rootHash, await mirrored.consistencyProof(a.size, b.size))
        return // consistent with the history this node verified itself
      } catch {
        // not consistent with the mirrored history: the origin's peers are asked below, as for any head
      }
    }
    const holders = new Set(this.#descriptors.get(a.origin)?.keys() ?? [])
    const peers = new Set<string>([...holders, ...this.peersFor(a.origin)])
    if (relayedBy !== undefined) peers.add(relayedBy.toString())
    peers.delete(this.peerId)
    const attempts: Attempt[] = []
    for (const peer of [...peers].slice(0, 8)) {
      try {
        const answer = decodeConsistencyAnswer(await request(this.network, peerIdFromString(peer), this.protocols.consistency,
          encodeConsistencyRequest(a.origin, a.size, b.size), { ...this.#limits, maxRequestBytes: 1024, maxResponseBytes: 8 * 1024 }))
        if ('error' in answer) {
          if (holders.has(peer)) attempts.push({ peer, error: `refused: ${answer.error}` })
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
    try {
      await this.#record(buildEvidence('no-consistency-proof', a.origin, noteA, noteB, this.#keysFor(a.origin), attempts))
    } catch (err) {
      this.#o.logger.warn({ origin: a.origin, err: (err as Error).message }, 'could not build evidence')
    }
  }

  async #serveConsistency (body: Uint8Array): Promise<{ proof: Uint8Array[] } | { error: string }> {
    try {
      const { origin, size1, size2 } = decodeConsistencyRequest(body)
      const log = origin === this.origin ? this.#o.log : this.#o.heldLog?.(origin) // its own log, or a mirror
      if (log === undefined) return { error: 'unknown origin' }
      const latest = log.latestCheckpoint()
      if (latest === undefined || size2 > latest.size || size1 === 0) return { error: 'no such sizes' }
      return { proof: await log.consistencyProof(size1, size2) }
    } catch (err) {
      return { error: isScittError(err) ? err.code : 'internal' }
    }
  }

  #emit (event: FederationEvent): void {
    for (const l of [...this.#listeners]) l(event)
  }

  // ---- status ----

  evidenceJson (): unknown {
    return this.evidence.list().map(({ id, evidence }) => ({ id, ...evidence }))
  }

  statusJson (): unknown {
    const witnesses = this.#o.trust.witnesses.map((w) => ({
      name: w.name,
      vkey: w.vkey,
      self: w.vkey === this.#o.witnessVkey,
      cosignedSize: this.#client.knownSize(w.name) ?? null,
    }))
    return {
      federation: this.name,
      origin: this.origin,
      peerId: this.peerId,
      multiaddrs: this.multiaddrs,
      peers: this.network.getPeers().map((p) => p.toString()),
      announced: [...this.#descriptors.values()].flatMap((m) => [...m.values()].map((d) => ({ origin: d.origin, peer: d.peer, witness: d.witness ?? null, http: d.http ?? null, sector: d.sector ?? null, roles: d.roles }))),
      origins: this.heads.all().map((h) => ({
        ...Heads.json(h),
        peers: [...(this.#descriptors.get(h.origin)?.keys() ?? [])],
        equivocated: this.evidence.against(h.origin) ?? null,
      })),
      witnesses,
      witnessing: this.witness === undefined ? [] : this.#o.trust.origins.filter((o) => o !== this.origin),
      evidence: this.evidence.list().map(({ id, evidence }) => ({ id, origin: evidence.origin, kind: evidence.kind })),
    }
  }
}

export type FederationEvent =
  | { type: 'head', origin: string, size: number }
  | { type: 'quorum', size: number, note: string }
  | { type: 'evidence', id: string, evidence: Evidence }
  | { type: 'descriptor', descriptor: Descriptor, signed: Uint8Array }

/** Gossip verdicts from error codes (architecture.md "Errors"): unknown → Ignore, anything else → Reject. */
function verdictFor (err: unknown): TopicValidatorResult {
  if (isScittError(err, 'UNKNOWN_ORIGIN') || isScittError(err, 'UNKNOWN_KEY')) return TopicValidatorResult.Ignore
  return TopicValidatorResult.Reject
}

