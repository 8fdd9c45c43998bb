/**
 * The peer directory: the signed announce descriptors (descriptor.ts) of the federation's nodes, by
 * origin and peer; this node's own descriptor, announced at start, periodically (at a random point
 * within ±50 % of the announce period, so that nodes started together do not all announce at once) and
 * soon after a peer subscribes; and the connections it dials to the peers it learns, up to
 * CONNECTION_TARGET connections: enough for a gossipsub mesh (D = 6) with choice, without a full mesh
 * of a large federation. Beyond it a peer is still remembered, and dialed when a request needs it.
 * A peer is dialed by one announce at a time, and not again by announces within one announce period
 * after a failed dial: every node re-announces, so a federation of n nodes would otherwise start n
 * dials per period at each node that cannot reach a peer, and more as the failures slow it down.
 * Its addresses go to the peer store when they are new or changed.
 *
 * A descriptor is trusted as far as the origin whose log key signed it. Its `witness` field is taken
 * as the address of a witness key only when the key's name is that origin's witness name
 * (`<origin>/witness`), so that no other origin can draw a witness's requests to its own peer.
 */
import { multiaddr } from '@multiformats/multiaddr'
import { peerIdFromString } from '@libp2p/peer-id'
import { TopicValidatorResult } from '@libp2p/gossipsub'
import { toBase64Url, utf8, type NoteSigner, type NoteVerifier, type PolicyWitness } from '@scitt/core'
import { witnessKeyName } from '../keys.js'
import type { Logger } from '../logger.js'
import type { Network } from '../p2p/network.js'
import { openDescriptor, signDescriptor, type Descriptor } from './descriptor.js'

/** Most peers remembered per origin. */
const MAX_PEERS_PER_ORIGIN = 16
/** The directory dials announced peers while the node has fewer connections than this. */
export const CONNECTION_TARGET = 16

/** What this node says about itself in its descriptor. */
export interface OwnAnnounce {
  origin: string
  roles: string[]
  witnessVkey?: string
  receiptKey?: Uint8Array
  httpUrl?: string
  sector?: string
  mirrors?: string[]
}

export interface DirectoryOptions {
  network: Network
  own: OwnAnnounce
  logSigner: NoteSigner
  /** The log keys trusted for an origin. */
  keysFor: (origin: string) => NoteVerifier[]
  /** Publishes the signed descriptor on the announce topic. */
  publish: (signed: Uint8Array) => Promise<void>
  /** A trusted descriptor newer than the one known from its peer; `first` when the peer is new for the origin. Called after dialing it. */
  onDescriptor: (d: Descriptor, signed: Uint8Array, first: boolean) => void
  announceMs: number
  timeoutMs: number
  logger: Logger
  now: () => number
}

export class PeerDirectory {
  readonly #o: DirectoryOptions
  /** Descriptors by origin, then by peer id. */
  readonly #descriptors = new Map<string, Map<string, Descriptor>>()
  /** The latest signed descriptor per origin. */
  readonly #signed = new Map<string, { time: number, signed: Uint8Array }>()
  /** Peers with a dial under way. */
  readonly #dialing = new Set<string>()
  /** When a dial to a peer last failed (ms), for peers whose latest dial failed. */
  readonly #failedAt = new Map<string, number>()
  #own: Uint8Array | undefined
  #timer: ReturnType<typeof setTimeout> | undefined
  #soon: ReturnType<typeof setTimeout> | undefined
  /** When this node last announced (ms, `now`). */
  #announcedAt = -Infinity
  #stopped = false

  constructor (o: DirectoryOptions) {
    this.#o = o
  }

  get #peerId (): string {
    return this.#o.network.peerId.toString()
  }

  /**
   * Announces now, then periodically and after peers subscribe: soon (100 ms, once for a burst) but not
   * within a quarter of the announce period of the last announce, so that connections opening and
   * closing across a large federation cannot make every node announce to all the others many times a
   * period (each announce reaches, and is verified by, every node).
   */
  async start (): Promise<void> {
    this.#o.network.services.pubsub.addEventListener('subscription-change', () => {
      if (this.#soon !== undefined || this.#stopped) return
      const wait = Math.max(100, this.#announcedAt + this.#o.announceMs / 4 - this.#o.now())
      this.#soon = setTimeout(() => { this.#soon = undefined; void this.announce() }, wait)
      this.#soon.unref()
    })
    this.#schedule()
    await this.announce()
  }

  stop (): void {
    this.#stopped = true
    clearTimeout(this.#timer)
    clearTimeout(this.#soon)
  }

  /** This node's latest signed descriptor (undefined before its first announce). */
  get own (): Uint8Array | undefined {
    return this.#own
  }

  async announce (): Promise<void> {
    if (this.#stopped) return
    const { own } = this.#o
    const d: Descriptor = {
      origin: own.origin,
      peer: this.#peerId,
      addrs: this.#o.network.getMultiaddrs().map((a) => a.toString()).slice(0, 16),
      roles: own.roles,
      time: Math.floor(this.#o.now() / 1000),
      ...(own.witnessVkey === undefined ? {} : { witness: own.witnessVkey }),
      ...(own.receiptKey === undefined ? {} : { receiptKey: toBase64Url(own.receiptKey) }),
      ...(own.httpUrl === undefined ? {} : { http: own.httpUrl }),
      ...(own.sector === undefined ? {} : { sector: own.sector }),
      ...(own.mirrors === undefined || own.mirrors.length === 0 ? {} : { mirrors: own.mirrors }),
    }
    this.#own = utf8(signDescriptor(d, this.#o.logSigner))
    this.#announcedAt = this.#o.now()
    await this.#o.publish(this.#own)
  }

  #schedule (): void {
    if (this.#stopped) return
    this.#timer = setTimeout(() => {
      this.#schedule()
      void this.announce()
    }, this.#o.announceMs * (0.5 + Math.random()))
    this.#timer.unref()
  }

  /** The announce topic's validator: keeps a trusted descriptor, dials its peer and reports it. */
  accept (data: Uint8Array): TopicValidatorResult {
    const d = openDescriptor(data, this.#o.keysFor)
    if (d.peer === this.#peerId) return TopicValidatorResult.Ignore
    let byPeer = this.#descriptors.get(d.origin)
    if (byPeer === undefined) this.#descriptors.set(d.origin, byPeer = new Map<string, Descriptor>())
    const known = byPeer.get(d.peer)
    if (known !== undefined && known.time > d.time) return TopicValidatorResult.Ignore
    if (known === undefined && byPeer.size >= MAX_PEERS_PER_ORIGIN) return TopicValidatorResult.Ignore
    byPeer.set(d.peer, d)
    const latest = this.#signed.get(d.origin)
    if (latest === undefined || latest.time <= d.time) this.#signed.set(d.origin, { time: d.time, signed: data })
    const addrsChanged = known === undefined || known.addrs.length !== d.addrs.length || known.addrs.some((a, i) => a !== d.addrs[i])
    void this.#connect(d, addrsChanged).then(() => { if (!this.#stopped) this.#o.onDescriptor(d, data, known === undefined) })
    return TopicValidatorResult.Accept
  }

  /** Learns a trusted descriptor's addresses and dials it, so that the federation's peers form a mesh (see the module comment). */
  async #connect (d: Descriptor, addrsChanged: boolean): Promise<void> {
    const network = this.#o.network
    let dialing = false
    try {
      const peer = peerIdFromString(d.peer)
      if (addrsChanged) await network.peerStore.merge(peer, { multiaddrs: d.addrs.map((a) => multiaddr(a)) })
      const failedAt = this.#failedAt.get(d.peer)
      if (this.#dialing.has(d.peer) || (failedAt !== undefined && this.#o.now() - failedAt < this.#o.announceMs && !addrsChanged)) return
      if (network.getConnections(peer).length === 0 && network.getConnections().length < CONNECTION_TARGET && !this.#stopped) {
        this.#dialing.add(d.peer)
        dialing = true
        await network.dial(peer, { signal: AbortSignal.timeout(this.#o.timeoutMs) })
        this.#failedAt.delete(d.peer)
      }
    } catch (err) {
      if (dialing) this.#failedAt.set(d.peer, this.#o.now())
      this.#o.logger.debug({ peer: d.peer, err: (err as Error).message }, 'could not dial an announced peer')
    } finally {
      if (dialing) this.#dialing.delete(d.peer)
    }
  }

  /** The peers announcing the origin itself. */
  holders (origin: string): string[] {
    return [...(this.#descriptors.get(origin)?.keys() ?? [])]
  }

  /**
   * The peers that may hold an origin's log: those announcing the origin itself first, then those
   * announcing that they mirror it; never this node.
   */
  peersFor (origin: string): string[] {
    const mirrors = this.#all().filter((d) => d.mirrors?.includes(origin) === true).map((d) => d.peer)
    return [...new Set([...this.holders(origin), ...mirrors])].filter((p) => p !== this.#peerId)
  }

  /** The HTTP URL a peer announced (undefined when it announced none). */
  httpUrlOf (peer: string): string | undefined {
    for (const byPeer of this.#descriptors.values()) {
      const http = byPeer.get(peer)?.http
      if (http !== undefined) return http
    }
    return undefined
  }

  /** The latest trusted descriptor an origin announced, as signed. */
  signedDescriptorOf (origin: string): Uint8Array | undefined {
    return this.#signed.get(origin)?.signed
  }

  /** The peer that announces a policy witness, by the descriptor of the origin the witness key is named after (the latest). */
  witnessPeer (w: PolicyWitness): string | undefined {
    let best: Descriptor | undefined
    for (const d of this.#all()) {
      if (d.witness === w.vkey && w.keyName === witnessKeyName(d.origin) && (best === undefined || d.time > best.time)) best = d
    }
    return best?.peer
  }

  #all (): Descriptor[] {
    return [...this.#descriptors.values()].flatMap((m) => [...m.values()])
  }

  statusJson (): unknown[] {
    return this.#all().map((d) => ({ origin: d.origin, peer: d.peer, witness: d.witness ?? null, http: d.http ?? null, sector: d.sector ?? null, roles: d.roles }))
  }
}
