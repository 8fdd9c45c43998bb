/**
 * Request/response over libp2p streams: one length-prefixed request frame, one length-prefixed response
 * frame, both size-limited (a hostile length prefix is refused before anything is allocated), the whole
 * exchange under a timeout, and the stream always closed (or reset on failure) on both sides.
 */
import { lpStream } from '@libp2p/utils'
import type { Libp2p, PeerId, Stream } from '@libp2p/interface'
import type { Multiaddr } from '@multiformats/multiaddr'

export interface ExchangeLimits {
  maxRequestBytes: number
  maxResponseBytes: number
  timeoutMs: number
}

/** A response that holds something (a read budget's bytes) until it has been written or the stream has failed: then `release` runs. */
export interface HeldResponse {
  body: Uint8Array
  release: () => void
}

export type RequestHandler = (request: Uint8Array, peer: PeerId) => Promise<Uint8Array | HeldResponse>

function asError (err: unknown): Error {
  return err instanceof Error ? err : new Error(`stream failed: ${String((err as { type?: unknown })?.type ?? err)}`)
}

function reset (stream: Stream, err: unknown): void {
  try { stream.abort(asError(err)) } catch {}
}

/** Serves `protocol`: each inbound stream carries one request and gets one response. */
export async function handleRequests (node: Libp2p, protocol: string, handler: RequestHandler, limits: ExchangeLimits): Promise<void> {
  await node.handle(protocol, async (stream, connection) => {
    const signal = AbortSignal.timeout(limits.timeoutMs)
    let release: (() => void) | undefined
    try {
      const lp = lpStream(stream, { maxDataLength: limits.maxRequestBytes })
      const request = await lp.read({ signal })
      const answer = await handler(request.subarray(), connection.remotePeer)
      let response: Uint8Array
      if (answer instanceof Uint8Array) response = answer
      else ({ body: response, release } = answer)
      await lp.write(response, { signal })
      await stream.close({ signal })
    } catch (err) {
      reset(stream, err)
    } finally {
      release?.()
    }
  }, { maxInboundStreams: 64 })
}

/** Sends one request on a new stream and returns the response (rejects on timeout, oversize or reset). */
export async function request (node: Libp2p, peer: PeerId | Multiaddr, protocol: string, body: Uint8Array, limits: ExchangeLimits): Promise<Uint8Array> {
  const signal = AbortSignal.timeout(limits.timeoutMs)
  const stream = await node.dialProtocol(peer, protocol, { signal })
  try {
    const lp = lpStream(stream, { maxDataLength: limits.maxResponseBytes })
    await lp.write(body, { signal })
    const response = await lp.read({ signal })
    await stream.close({ signal })
    return response.subarray()
  } catch (err) {
    reset(stream, err)
    throw asError(err)
  }
}
