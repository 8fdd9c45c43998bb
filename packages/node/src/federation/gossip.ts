/**
 * The federation's gossipsub topics (`/scitt/<name>/{checkpoints,evidence,announce}/1`): one validator
 * per topic, counted in metrics, and publishing that `settled()` can wait for when the node stops.
 *
 * Verdicts: a validator returns Accept (relay), Ignore (drop, no penalty) or Reject (drop and lower the
 * sender's score). An error it throws becomes Ignore when it says the origin or key is unknown, Reject
 * when it is a ScittError about the message (bad bytes, bad signature), and Ignore for anything else:
 * an internal failure of this node is never held against the peer that relayed the message.
 */
import { TopicValidatorResult } from '@libp2p/gossipsub'
import type { PeerId } from '@libp2p/interface'
import { isScittError } from '@scitt/core'
import type { Logger } from '../logger.js'
import type { Network } from '../p2p/network.js'
import type { FederationMetrics } from './metrics.js'

export type TopicName = 'checkpoints' | 'evidence' | 'announce'
export type Topics = Record<TopicName, string>
export type Validator = (data: Uint8Array, from: PeerId) => TopicValidatorResult

export function topicIds (federation: string): Topics {
  const base = `/scitt/${federation}`
  return { checkpoints: `${base}/checkpoints/1`, evidence: `${base}/evidence/1`, announce: `${base}/announce/1` }
}

/** The verdict for an error thrown while validating (see the module comment). */
export function verdictFor (err: unknown): TopicValidatorResult {
  if (isScittError(err, 'UNKNOWN_ORIGIN') || isScittError(err, 'UNKNOWN_KEY')) return TopicValidatorResult.Ignore
  return isScittError(err) ? TopicValidatorResult.Reject : TopicValidatorResult.Ignore
}

export class Gossip {
  readonly topics: Topics
  readonly #network: Network
  readonly #logger: Logger
  readonly #metrics: FederationMetrics | undefined
  readonly #publishing = new Set<Promise<void>>()
  #stopped = false

  constructor (network: Network, federation: string, logger: Logger, metrics?: FederationMetrics) {
    this.topics = topicIds(federation)
    this.#network = network
    this.#logger = logger
    this.#metrics = metrics
  }

  /** Subscribes to every topic with its validator. */
  listen (validators: Record<TopicName, Validator>): void {
    const pubsub = this.#network.services.pubsub
    for (const name of Object.keys(this.topics) as TopicName[]) {
      const topic = this.topics[name]
      pubsub.topicValidators.set(topic, async (from, m) => {
        let verdict: TopicValidatorResult
        try {
          verdict = validators[name](m.data, from)
        } catch (err) {
          verdict = verdictFor(err)
          if (!isScittError(err)) this.#logger.warn({ topic: name, err: (err as Error).message }, 'gossip: internal error while validating a message')
        }
        this.#metrics?.gossip.inc({ topic: name, verdict })
        return verdict
      })
      pubsub.subscribe(topic)
    }
  }

  /** Publishes (not after stop); failures are logged, never thrown. */
  async publish (name: TopicName, data: Uint8Array): Promise<void> {
    if (this.#stopped) return
    const publishing = this.#network.services.pubsub.publish(this.topics[name], data).then(() => {}, (err: unknown) => {
      this.#logger.debug({ topic: name, err: (err as Error).message }, 'publish failed')
    })
    this.#publishing.add(publishing)
    await publishing
    this.#publishing.delete(publishing)
  }

  /** The publishing under way. */
  settled (): Promise<unknown> {
    return Promise.allSettled([...this.#publishing])
  }

  stop (): void {
    this.#stopped = true
  }
}
