/**
 * Where a node's mirrors fetch from: the peers that announce the origin or announce mirroring it, over
 * the log-data libp2p protocol; when a peer cannot be reached over libp2p (a dial or stream failure,
 * not a refusal or bad data), the same resource from the HTTP URL in its descriptor: the C2SP tiles at
 * `/logs/<hex>/tile/...`, and `/logs/<hex>/checkpoints/<size>` and `/logs/<hex>/descriptor`.
 */
import { peerIdFromString } from '@libp2p/peer-id'
import { ScittError, isScittError } from '@scitt/core'
import type { Federation } from '../federation/federation.js'
import { readLimited } from '../http/read-limited.js'
import { request } from '../p2p/protocols.js'
import { MAX_LOG_DATA_ANSWER, MAX_LOG_DATA_REQUEST, decodeLogDataAnswer, encodeLogDataRequest } from './log-data.js'
import type { MirrorSource } from './mirror.js'
import { originHash } from './origin-hash.js'

/** What the source needs of the federation. */
export type SourceFederation = Pick<Federation, 'peersFor' | 'httpUrlOf' | 'network' | 'protocols'>

export function federationSource (federation: SourceFederation, timeoutMs: number): MirrorSource {
  const limits = { maxRequestBytes: MAX_LOG_DATA_REQUEST, maxResponseBytes: MAX_LOG_DATA_ANSWER, timeoutMs }
  return {
    peers: (origin) => federation.peersFor(origin),
    fetch: async (peer, origin, resource) => {
      try {
        return decodeLogDataAnswer(await request(federation.network, peerIdFromString(peer), federation.protocols.logData, encodeLogDataRequest(origin, resource), limits))
      } catch (err) {
        const http = federation.httpUrlOf(peer)
        if (isScittError(err) || http === undefined) throw err // the peer answered (a refusal or bad data), or has no HTTP
        return await fetchOverHttp(http, origin, resource, timeoutMs)
      }
    },
  }
}

/** One log-data resource from a node's HTTP API (NOT_FOUND for a 404; size-limited). */
export async function fetchOverHttp (baseUrl: string, origin: string, resource: string, timeoutMs: number): Promise<Uint8Array> {
  const url = `${baseUrl.replace(/\/+$/, '')}/logs/${originHash(origin)}/${resource}`
  const res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) })
  if (res.status === 404) {
    await res.body?.cancel()
    throw new ScittError('NOT_FOUND', `peer refused over HTTP: ${url} is 404`)
  }
  if (res.status !== 200) {
    await res.body?.cancel()
    throw new Error(`GET ${url}: HTTP ${res.status}`)
  }
  return readLimited(res, MAX_LOG_DATA_ANSWER, `GET ${url}`)
}
