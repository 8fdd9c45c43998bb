/**
 * The mirrors of a node: one Mirror per origin that `federation.mirror` lists, each a Log.openMirror in
 * its own sublevel of the node's LevelDB (named after hex(SHA-256(origin)), as its HTTP prefix
 * `/logs/<hex>/`), checking checkpoints against every log key the trust policy lists for the origin.
 * A mirror opens once the origin's receipt key is known, from the origin's signed descriptor: announced
 * by the origin, or fetched from a peer that mirrors it (the log-data protocol's `descriptor`), then
 * kept in the federation store and served to others. A newer descriptor (by its `time`) replaces the
 * kept one, and a receipt key it announces is added to the origin's receipt keys (receipt-keys.ts):
 * every stored seal verifies under one of them.
 * Heads seen in the federation trigger catch-up; a timer retries what events missed; an origin with
 * evidence of equivocation against it is no longer followed. Each mirror, once open, is registered
 * among the node's held logs (served over HTTP and the log-data protocol).
 */
import { equalBytes, originHash } from '@scitt/core'
import { Log, type LogDatabase, type LogFiles } from '@scitt/log'
import { openDescriptor } from '../federation/descriptor.js'
import type { FederationEvent } from '../federation/federation.js'
import type { Head } from '../federation/heads.js'
import type { TrustPolicy } from '../federation/trust.js'
import { bestCheckpointNote, type HeldLogs } from '../held-logs.js'
import type { Logger } from '../logger.js'
import { STORE_KEYS } from '../store-layout.js'
import type { FederationDb } from '../witness/store.js'
import type { MirrorMetrics } from './metrics.js'
import { Mirror, type MirrorSource } from './mirror.js'
import { ReceiptKeys } from './receipt-keys.js'
import { federationSource, type SourceFederation } from './source.js'

/** What the mirrors need of the federation. */
export interface MirrorFederation extends SourceFederation {
  directory: SourceFederation['directory'] & { signedDescriptorOf: (origin: string) => Uint8Array | undefined }
  heads: { latest: (origin: string) => Head | undefined }
  evidence: { against: (origin: string) => string | undefined }
  on: (listener: (event: FederationEvent) => void) => () => void
}

export interface MirrorsOptions {
  /** The origins to mirror (each a `log` of the trust policy, not the node's own). */
  origins: readonly string[]
  federation: MirrorFederation
  trust: TrustPolicy
  /** Where each mirror is registered once open. */
  held: HeldLogs
  /** The database of one mirrored log (a sublevel of the node's LevelDB). */
  database: (name: string) => LogDatabase
  /** Where the files of one mirrored log go (data-dir.ts). */
  files: (origin: string) => LogFiles
  /** Where receipt keys learned from descriptors are kept. */
  store: FederationDb
  logger: Logger
  metrics?: MirrorMetrics
  sync?: boolean
  /** Longest wait for one fetch over HTTP (federation.timeoutMs). */
  timeoutMs: number
  /** Period of the catch-up retry timer (ms, default 15 000). */
  retryMs?: number
}

export class Mirrors {
  readonly #o: MirrorsOptions
  readonly #mirrors = new Map<string, Mirror>()
  readonly #opening = new Map<string, Promise<void>>()
  readonly #source: MirrorSource
  readonly #listeners: Array<(mirror: Mirror) => void> = []
  /** The origins' latest signed descriptors this node keeps (and serves), with their `time`. */
  readonly #descriptors = new Map<string, { signed: Uint8Array, time: number }>()
  readonly #receiptKeys: ReceiptKeys
  /** Descriptors are adopted one at a time, in arrival order. */
  #adopting: Promise<unknown> = Promise.resolve()
  #unsubscribe: (() => void) | undefined
  #timer: ReturnType<typeof setInterval> | undefined
  #stopped = false

  private constructor (o: MirrorsOptions) {
    this.#o = o
    this.#source = federationSource(o.federation, o.timeoutMs)
    this.#receiptKeys = new ReceiptKeys(o.store)
  }

  static async start (o: MirrorsOptions): Promise<Mirrors> {
    const mirrors = new Mirrors(o)
    mirrors.#unsubscribe = o.federation.on((event) => { mirrors.#onEvent(event) })
    for (const origin of o.origins) {
      await mirrors.#receiptKeys.load(origin)
      for (const signed of [await o.store.get(STORE_KEYS.mirrorDescriptor(origin)), o.federation.directory.signedDescriptorOf(origin)]) {
        if (signed !== undefined) await mirrors.#adopt(origin, signed).catch((err: unknown) => { mirrors.#cannotOpen(origin, err) })
      }
    }
    mirrors.#timer = setInterval(() => { mirrors.#retry() }, o.retryMs ?? 15_000)
    mirrors.#timer.unref()
    mirrors.#retry()
    return mirrors
  }

  /** The mirror of an origin, once open. */
  get (origin: string): Mirror | undefined {
    return this.#mirrors.get(origin)
  }

  /** Calls `listener` for each mirror as it opens (now for those already open). */
  onOpen (listener: (mirror: Mirror) => void): void {
    this.#listeners.push(listener)
    for (const m of this.#mirrors.values()) listener(m)
  }

  async stop (): Promise<void> {
    this.#stopped = true
    clearInterval(this.#timer)
    this.#unsubscribe?.()
    await Promise.allSettled([...this.#opening.values(), this.#adopting])
    await Promise.all([...this.#mirrors.values()].map(async (m) => { await m.stop(); await m.log.close() }))
  }

  statusJson (): unknown {
    return this.#o.origins.map((origin) => {
      const m = this.#mirrors.get(origin)
      return m === undefined ? { origin, state: 'waiting for the origin\'s descriptor (its receipt key), from the origin or a peer that mirrors it' } : { ...(m.statusJson() as object), state: 'open', path: `/logs/${originHash(origin)}/` }
    })
  }

  #onEvent (event: FederationEvent): void {
    if (this.#stopped) return
    if (event.type === 'head') {
      this.#mirrors.get(event.origin)?.onHead(event.size)
    } else if (event.type === 'descriptor') {
      const { origin, mirrors } = event.descriptor
      if (this.#o.origins.includes(origin)) {
        // A re-announce of the kept descriptor (the directory verified it) changes nothing: not verified again.
        const kept = this.#descriptors.get(origin)
        if (kept !== undefined && event.descriptor.time <= kept.time && this.#mirrors.has(origin)) return
        this.#adopt(origin, event.signed).catch((err: unknown) => { this.#cannotOpen(origin, err) })
      }
      // A peer that mirrors an origin still waiting here can give its descriptor.
      else if (mirrors?.some((m) => this.#o.origins.includes(m) && !this.#mirrors.has(m)) === true) this.#retry()
    }
  }

  /** Runs `open` for an origin not open yet, one at a time per origin. */
  #opened (origin: string, open: () => Promise<void>): void {
    if (this.#mirrors.has(origin) || this.#opening.has(origin)) return
    const opening = open().catch((err: unknown) => { this.#cannotOpen(origin, err) }).finally(() => { this.#opening.delete(origin) })
    this.#opening.set(origin, opening)
  }

  #cannotOpen (origin: string, err: unknown): void {
    this.#o.logger.warn({ origin, err: (err as Error).message }, this.#mirrors.has(origin) ? 'could not adopt the origin\'s descriptor' : 'could not open the mirror')
  }

  /** Syncs the open mirrors; for the others, asks the peers that mirror the origin for its descriptor. */
  #retry (): void {
    if (this.#stopped) return
    for (const m of this.#mirrors.values()) m.sync()
    for (const origin of this.#o.origins) {
      this.#opened(origin, async () => {
        for (const peer of this.#o.federation.directory.peersFor(origin).slice(0, 4)) {
          const signed = await this.#source.fetch(peer, origin, 'descriptor').catch(() => undefined)
          if (signed === undefined) continue
          await this.#adopt(origin, signed)
          return
        }
      })
    }
  }

  /**
   * Adopts an origin's signed descriptor (verified with the trust policy) if it is newer than the kept
   * one: keeps it, learns its receipt key, and opens the mirror if it is not open yet.
   */
  async #adopt (origin: string, signed: Uint8Array): Promise<void> {
    const adopting = this.#adopting.then(async () => {
      if (this.#stopped) return
      const d = openDescriptor(signed, (o) => this.#o.trust.logVerifiers(o))
      if (d.origin !== origin) throw new TypeError(`a descriptor of ${d.origin} given for ${origin}`)
      if (d.receiptKey === undefined) throw new TypeError(`the descriptor of ${origin} has no receipt key`)
      const kept = this.#descriptors.get(origin)
      if (kept === undefined || d.time > kept.time) {
        const learned = await this.#receiptKeys.learn(origin, d.receiptKey)
        if (learned && this.#mirrors.has(origin)) this.#o.logger.info({ origin }, 'mirror: the origin announced a new receipt key')
        const stored = await this.#o.store.get(STORE_KEYS.mirrorDescriptor(origin))
        if (stored === undefined || !equalBytes(stored, signed)) await this.#o.store.put(STORE_KEYS.mirrorDescriptor(origin), signed, { sync: true })
        this.#descriptors.set(origin, { signed, time: d.time })
      }
      if (!this.#mirrors.has(origin)) await this.#open(origin)
    })
    this.#adopting = adopting.catch(() => {})
    await adopting
  }

  async #open (origin: string): Promise<void> {
    if (this.#stopped) return
    const verifiers = this.#o.trust.logVerifiers(origin)
    if (verifiers.length === 0) throw new TypeError(`${origin} is not a log of the trust policy`)
    const log = await Log.openMirror({
      db: this.#o.database(`m-${originHash(origin)}`),
      files: this.#o.files(origin),
      origin,
      verifiers,
      receiptVerifiers: () => this.#receiptKeys.verifiers(origin),
      sync: this.#o.sync ?? false,
    })
    const { federation } = this.#o
    const mirror = new Mirror({
      origin,
      log,
      source: this.#source,
      logger: this.#o.logger,
      ...(this.#o.metrics === undefined ? {} : { metrics: this.#o.metrics }),
      paused: () => federation.evidence.against(origin) !== undefined,
    })
    this.#mirrors.set(origin, mirror)
    this.#o.held.add({ origin, log, checkpointNote: () => bestCheckpointNote(log, federation.heads.latest(origin)), descriptor: () => this.#descriptors.get(origin)?.signed })
    this.#o.logger.info({ origin, size: mirror.size }, 'mirror open')
    for (const l of this.#listeners) l(mirror)
    const head = federation.heads.latest(origin)
    if (head !== undefined) mirror.onHead(head.size)
    mirror.sync()
  }
}
