/**
 * Where a node's mirrors fetch from: the peers that announce the origin or announce mirroring it, over
 * the log-data libp2p protocol; when a peer cannot be reached over libp2p (a dial or stream failure,
 * not a refusal or bad data), the same resource from the HTTP URL in its descriptor: the C2SP tiles at
 * `/logs/<hex>/tile/...`, and `/logs/<hex>/checkpoints/<size>` and `/logs/<hex>/descriptor`.
 */
import { ScittError, isScittError, originHash } from '@scitt/core'
import { MAX_LOG_DATA_ANSWER } from '../federation/log-data.js'
import { readLimited } from '../read-limited.js'
import type { MirrorSource } from './mirror.js'

/** What the source needs of the federation: who holds an origin, their HTTP URLs, and the log-data protocol. */
export interface SourceFederation {
  directory: { peersFor: (origin: string) => string[], httpUrlOf: (peer: string) => string | undefined }
  logData: (peer: string, origin: string, resource: string) => Promise<Uint8Array>
}

export function federationSource (federation: SourceFederation, timeoutMs: number): MirrorSource {
  return {
    peers: (origin) => federation.directory.peersFor(origin),
    fetch: async (peer, origin, resource) => {
      try {
        return await federation.logData(peer, origin, resource)
      } catch (err) {
        const http = federation.directory.httpUrlOf(peer)
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
