/**
 * The federation's request/answer protocols over libp2p, in one place: their ids
 * (`/scitt/<name>/<protocol>/<version>`), the size limit of each request and answer, and the one
 * answer framing (answer.ts) that every handler's result or error is sent in.
 */
import { peerIdFromString } from '@libp2p/peer-id'
import type { PeerId } from '@libp2p/interface'
import { MAX_ADD_CHECKPOINT_REQUEST_SIZE } from '@scitt/core'
import type { Network } from '../p2p/network.js'
import { handleRequests, request, type ExchangeLimits, type HeldResponse } from '../p2p/protocols.js'
import { encodeAnswer, refusalFor } from './answer.js'
import { MAX_LOG_DATA_ANSWER, MAX_LOG_DATA_REQUEST } from './log-data.js'
import { MAX_CHECKPOINT_MESSAGE, MAX_CONSISTENCY_ANSWER, MAX_SMALL_REQUEST, MAX_WITNESS_ANSWER } from './wire.js'

export type ProtocolName = 'addCheckpoint' | 'consistency' | 'head' | 'logData'

/** Each protocol's path and version, and its size limits. */
const PROTOCOLS: Record<ProtocolName, { path: string, maxRequestBytes: number, maxResponseBytes: number }> = {
  addCheckpoint: { path: 'add-checkpoint/2', maxRequestBytes: MAX_ADD_CHECKPOINT_REQUEST_SIZE, maxResponseBytes: MAX_WITNESS_ANSWER },
  consistency: { path: 'consistency/2', maxRequestBytes: MAX_SMALL_REQUEST, maxResponseBytes: MAX_CONSISTENCY_ANSWER },
  head: { path: 'head/2', maxRequestBytes: MAX_SMALL_REQUEST, maxResponseBytes: MAX_CHECKPOINT_MESSAGE + 64 },
  logData: { path: 'log-data/1', maxRequestBytes: MAX_LOG_DATA_REQUEST, maxResponseBytes: MAX_LOG_DATA_ANSWER },
}

export type ProtocolIds = Record<ProtocolName, string>

export function protocolIds (federation: string): ProtocolIds {
  const ids = {} as ProtocolIds
  for (const name of Object.keys(PROTOCOLS) as ProtocolName[]) ids[name] = `/scitt/${federation}/${PROTOCOLS[name].path}`
  return ids
}

/**
 * A protocol handler: the framed answer (wire.ts, log-data.ts), or one that holds a budget's bytes
 * until it has been sent (log-data-reads.ts); an error it throws becomes the refusal.
 */
export type ProtocolHandler = (request: Uint8Array, peer: PeerId) => Promise<Uint8Array | HeldResponse>

export class Protocols {
  readonly ids: ProtocolIds
  readonly #network: Network
  readonly #timeoutMs: number

  constructor (network: Network, federation: string, timeoutMs: number) {
    this.ids = protocolIds(federation)
    this.#network = network
    this.#timeoutMs = timeoutMs
  }

  limits (name: ProtocolName): ExchangeLimits {
    const { maxRequestBytes, maxResponseBytes } = PROTOCOLS[name]
    return { maxRequestBytes, maxResponseBytes, timeoutMs: this.#timeoutMs }
  }

  /** Serves every protocol with its handler. */
  async serve (handlers: Record<ProtocolName, ProtocolHandler>): Promise<void> {
    for (const name of Object.keys(PROTOCOLS) as ProtocolName[]) {
      const handler = handlers[name]
      await handleRequests(this.#network, this.ids[name], async (body, peer) => {
        try {
          return await handler(body, peer)
        } catch (err) {
          return encodeAnswer(refusalFor(err))
        }
      }, this.limits(name))
    }
  }

  /** One request to a peer; the raw framed answer (each protocol's decoder in wire.ts / log-data.ts reads it). */
  async ask (peer: string | PeerId, name: ProtocolName, body: Uint8Array): Promise<Uint8Array> {
    const id = typeof peer === 'string' ? peerIdFromString(peer) : peer
    return await request(this.#network, id, this.ids[name], body, this.limits(name))
  }
}
