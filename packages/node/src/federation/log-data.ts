/**
 * The log-data peer protocol (`/scitt/<federation>/log-data/1`): any node serves the logs it holds (its
 * own and its mirrors) so that a mirror can fetch from the origin or from any other mirror. One request,
 * one answer, both size-limited and strictly parsed:
 * - request: `<origin>\n<resource>\n`, where resource is a C2SP tlog-tiles path (`tile/<L>/<N>[.p/<W>]`,
 *   `tile/entries/<N>[.p/<W>]`), `checkpoints/<size>`: the checkpoints the log stored above that size,
 *   in size order (with their receipt seals), as many as fit MAX_CHECKPOINTS_ANSWER,
 *   `entry-bundles/<N>/<K>`: full entry bundles N … N+K−1 concatenated (K ≤ MAX_BUNDLES_LISTED), as many
 *   as are full and fit one answer (at least one; a mirror asks again for the rest), or `descriptor`:
 *   the origin's signed announce descriptor (so that a new mirror learns the origin's receipt key
 *   while the origin is away; it is signed by the origin's log key);
 * - answer (answer.ts): `ok\n` ‖ body, or `error <CODE>: <reason>\n`. A checkpoints body is a
 *   sequence of u32be(length) ‖ checkpoint message (wire.ts).
 * The data is not trusted because of who sent it: the mirror recomputes every root (Log.appendVerified).
 */
import {
  ScittError, concatBytes, fromUtf8, isValidKeyName, malformed, parseTilePath, utf8, MAX_ENTRY_SIZE, TILE_WIDTH,
  type ParsedTilePath,
} from '@scitt/core'
import type { Log } from '@scitt/log'
import { answerBody, encodeAnswer, refusalFor } from './answer.js'
import { decodeCheckpointMessage, encodeCheckpointMessage, type CheckpointMessage } from './wire.js'

export const MAX_LOG_DATA_REQUEST = 1024
/** Bytes of a full entry bundle of maximal entries, plus the status line. */
export const MAX_LOG_DATA_ANSWER = TILE_WIDTH * (2 + MAX_ENTRY_SIZE) + 64
/** A checkpoints answer stops adding checkpoints past this many bytes. */
export const MAX_CHECKPOINTS_ANSWER = 2 * 1024 * 1024
/** Most checkpoints in one `checkpoints/<size>` answer. */
export const MAX_CHECKPOINTS_LISTED = 1024
/** Most bundles asked for in one `entry-bundles/<N>/<K>` request. */
export const MAX_BUNDLES_LISTED = 64
const DECIMAL = /^(0|[1-9][0-9]{0,15})$/
const BUNDLES = /^entry-bundles\/(0|[1-9][0-9]{0,15})\/([1-9][0-9]?)$/

export type LogDataResource = ParsedTilePath
  | { kind: 'checkpoints', size: number }
  | { kind: 'bundles', first: number, count: number }
  | { kind: 'descriptor' }

/** What a node serves: the logs it holds and the signed descriptors it keeps, by origin. */
export interface LogDataHoldings {
  log: (origin: string) => Log | undefined
  descriptor: (origin: string) => Uint8Array | undefined
}

export interface LogDataRequest {
  origin: string
  resource: LogDataResource
}

export function encodeLogDataRequest (origin: string, resource: string): Uint8Array {
  return utf8(`${origin}\n${resource}\n`)
}

export function decodeLogDataRequest (bytes: Uint8Array): LogDataRequest {
  if (bytes.length > MAX_LOG_DATA_REQUEST) throw new ScittError('TOO_LARGE', 'log-data request too large')
  const lines = fromUtf8(bytes).split('\n')
  if (lines.length !== 3 || lines[2] !== '' || !isValidKeyName(lines[0])) throw malformed('bad log-data request')
  const resource = lines[1]!
  if (resource === 'descriptor') return { origin: lines[0], resource: { kind: 'descriptor' } }
  if (resource.startsWith('checkpoints/')) {
    const size = resource.slice('checkpoints/'.length)
    if (!DECIMAL.test(size) || !Number.isSafeInteger(Number(size))) throw malformed('bad log-data request size')
    return { origin: lines[0], resource: { kind: 'checkpoints', size: Number(size) } }
  }
  if (resource.startsWith('entry-bundles/')) return { origin: lines[0], resource: parseBundlesResource(resource) }
  return { origin: lines[0], resource: parseTilePath(resource) }
}

/** Answers one request from what the node holds; failures become refusals. */
export async function serveLogData (body: Uint8Array, holdings: LogDataHoldings): Promise<Uint8Array> {
  try {
    const { origin, resource } = decodeLogDataRequest(body)
    if (resource.kind === 'descriptor') {
      const signed = holdings.descriptor(origin)
      if (signed === undefined) throw new ScittError('NOT_FOUND', `no descriptor of ${origin} here`)
      return encodeAnswer({ ok: signed })
    }
    const log = holdings.log(origin)
    if (log === undefined) throw new ScittError('NOT_FOUND', `no log of ${origin} here`)
    switch (resource.kind) {
      case 'hash': return encodeAnswer({ ok: await log.tile(resource.tile) })
      case 'entries': return encodeAnswer({ ok: await log.entryBundle(resource.tile.index, resource.tile.width) })
      case 'checkpoints': return encodeAnswer({ ok: encodeCheckpointList(await log.checkpointsAfter(resource.size, MAX_CHECKPOINTS_LISTED)) })
      case 'bundles': return encodeAnswer({ ok: concatBytes(...await entryBundles(log, resource)) })
    }
  } catch (err) {
    return encodeAnswer(refusalFor(err))
  }
}

/** `entry-bundles/<N>/<K>`, strictly (N a safe integer, K 1..MAX_BUNDLES_LISTED). */
export function parseBundlesResource (resource: string): { kind: 'bundles', first: number, count: number } {
  const m = BUNDLES.exec(resource)
  const first = m === null ? NaN : Number(m[1])
  const count = m === null ? NaN : Number(m[2])
  if (!Number.isSafeInteger(first) || !(count <= MAX_BUNDLES_LISTED)) throw malformed('bad log-data entry-bundles resource')
  return { kind: 'bundles', first, count }
}

/** The full bundles an `entry-bundles/<N>/<K>` answer carries (they fit one answer with its status line). */
export function entryBundles (log: Log, resource: { first: number, count: number }): Promise<Uint8Array[]> {
  return log.entryBundles(resource.first, resource.count, MAX_LOG_DATA_ANSWER - 64)
}

/** The body of a `checkpoints/<size>` answer. */
export function encodeCheckpointList (checkpoints: readonly CheckpointMessage[]): Uint8Array {
  const parts: Uint8Array[] = []
  let bytes = 0
  for (const cp of checkpoints) {
    const message = encodeCheckpointMessage(cp)
    if (parts.length > 0 && bytes + 4 + message.length > MAX_CHECKPOINTS_ANSWER) break
    const length = new Uint8Array(4)
    new DataView(length.buffer).setUint32(0, message.length)
    parts.push(length, message)
    bytes += 4 + message.length
  }
  return concatBytes(...parts)
}

/** The body of an `ok` answer; a refusal throws NOT_FOUND (answer.ts). */
export function decodeLogDataAnswer (bytes: Uint8Array): Uint8Array {
  if (bytes.length > MAX_LOG_DATA_ANSWER) throw new ScittError('TOO_LARGE', 'log-data answer too large')
  return answerBody(bytes, 'log-data')
}

export function decodeCheckpointList (body: Uint8Array): CheckpointMessage[] {
  if (body.length > MAX_CHECKPOINTS_ANSWER + 1024 * 1024 + 64) throw new ScittError('TOO_LARGE', 'checkpoint list too large')
  const view = new DataView(body.buffer, body.byteOffset, body.length)
  const out: CheckpointMessage[] = []
  for (let at = 0; at < body.length;) {
    if (out.length === MAX_CHECKPOINTS_LISTED) throw malformed('checkpoint list too long')
    if (at + 4 > body.length) throw malformed('checkpoint list truncated')
    const length = view.getUint32(at)
    if (length > body.length - at - 4) throw malformed('checkpoint list truncated')
    out.push(decodeCheckpointMessage(body.subarray(at + 4, at + 4 + length)))
    at += 4 + length
  }
  return out
}
