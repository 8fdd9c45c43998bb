/**
 * Read-only fetchers for what any node serves (docs/architecture.md "Where to look"): receipts, transparent
 * statements and tlog-proof files per entry (SCRAPI §2.5 and ours), the node's receipt keys (SCRAPI
 * §2.1–2.2), and C2SP tlog-tiles checkpoints, hash tiles and entry bundles, for the node's own log or
 * for a log it mirrors (`logPrefix(origin)`).
 */
import {
  MEDIA_TYPE, ScittError, decodeCoseKey, decodeCoseKeySet, entryBundlePath, fromUtf8, getReceipts, sha256Digest, tilePath, toBase64Url, toHex, utf8,
  type CoseKey, type TileId,
} from '@scitt/core'
import { httpGet, joinUrl, type HttpOptions } from './http.js'
import { poll, type PollOptions } from './poll.js'
import { RECEIPT_ACCEPT } from './register.js'

const ENTRY_ID = /^[0-9a-f]{64}$/

function entryUrl (nodeUrl: string, id: string, suffix = ''): string {
  if (!ENTRY_ID.test(id)) throw new ScittError('MALFORMED', `entry id must be 64 lowercase hex digits, got ${JSON.stringify(id)}`)
  return joinUrl(nodeUrl, `entries/${id}${suffix}`)
}

/** The path prefix under which a node serves the tiles of a log it mirrors: `logs/<hex SHA-256(origin)>/`. */
export function logPrefix (origin: string): string {
  return `logs/${toHex(sha256Digest(utf8(origin)))}/`
}

/**
 * The receipt of an entry. With `waitMs`, polls while the node answers 202 (registered there, not yet
 * integrated) and, with `whileNotFound`, 404 (the entry has not reached this node yet, e.g. a mirror
 * catching up): see `poll`.
 */
export async function fetchReceipt (nodeUrl: string, id: string, options: PollOptions = {}): Promise<Uint8Array> {
  return (await poll(entryUrl(nodeUrl, id), RECEIPT_ACCEPT, { waitMs: 0, ...options })).body
}

export interface StatementOptions extends PollOptions {
  /**
   * The least number of receipts wanted: a statement with fewer is polled again until `waitMs`, e.g.
   * to wait for a node's own receipt beside the mirrored one once it cross-registers the entry.
   */
  minReceipts?: number
}

/** The transparent statement of an entry: the statement with every receipt the node holds (label 394). */
export async function fetchTransparentStatement (nodeUrl: string, id: string, options: StatementOptions = {}): Promise<Uint8Array> {
  const { minReceipts } = options
  const notReady = minReceipts === undefined
    ? undefined
    : (body: Uint8Array): string | undefined => {
        const count = getReceipts(body).length
        return count >= minReceipts ? undefined : `the statement carries ${count} receipt${count === 1 ? '' : 's'}, ${minReceipts} wanted`
      }
  return (await poll(entryUrl(nodeUrl, id, '/statement'), `${MEDIA_TYPE.cose}, ${MEDIA_TYPE.scittStatement}`, {
    waitMs: 0, ...options, ...(notReady === undefined ? {} : { notReady }),
  })).body
}

/** The C2SP tlog-proof text of an entry, with the cosigned checkpoint of the first log holding it. */
export async function fetchProof (nodeUrl: string, id: string, options: PollOptions = {}): Promise<string> {
  return fromUtf8((await poll(entryUrl(nodeUrl, id, '/proof'), 'text/plain', { waitMs: 0, ...options })).body)
}

/** The node's receipt keys (COSE_KeySet at /.well-known/scitt-keys). */
export async function fetchNodeKeys (nodeUrl: string, options: HttpOptions = {}): Promise<CoseKey[]> {
  return decodeCoseKeySet(await httpGet(joinUrl(nodeUrl, '.well-known/scitt-keys'), MEDIA_TYPE.cbor, options))
}

/** One receipt key by kid (its base64url in the path, SCRAPI §2.2). */
export async function fetchNodeKey (nodeUrl: string, kid: Uint8Array, options: HttpOptions = {}): Promise<CoseKey> {
  return decodeCoseKey(await httpGet(joinUrl(nodeUrl, `.well-known/scitt-keys/${toBase64Url(kid)}`), MEDIA_TYPE.cbor, options))
}

/** Where a log's tiles live: a node URL and, for a mirrored log, `logPrefix(origin)`. */
export interface TileSource {
  nodeUrl: string
  prefix?: string
}

function tlogUrl (source: TileSource, path: string): string {
  return joinUrl(source.nodeUrl, `${source.prefix ?? ''}${path}`)
}

/** The log's latest signed checkpoint note (C2SP tlog-tiles `<prefix>/checkpoint`). */
export async function fetchCheckpoint (source: TileSource, options: HttpOptions = {}): Promise<string> {
  return fromUtf8(await httpGet(tlogUrl(source, 'checkpoint'), 'text/plain', { maxBytes: 1_048_576, ...options }))
}

/**
 * A hash tile. A partial tile that the log has since completed may be gone: on NOT_FOUND the full tile
 * is fetched instead (its prefix holds the same hashes).
 */
export async function fetchTile (source: TileSource, tile: TileId, options: HttpOptions = {}): Promise<Uint8Array> {
  const get = async (t: TileId): Promise<Uint8Array> => httpGet(tlogUrl(source, tilePath(t)), 'application/octet-stream', { maxBytes: 8192, ...options })
  try {
    return await get(tile)
  } catch (err) {
    if (tile.width === 256 || !(err instanceof ScittError && err.code === 'NOT_FOUND')) throw err
    return get({ ...tile, width: 256 })
  }
}

/**
 * An entry bundle (C2SP tlog-tiles `tile/entries/<N>[.p/<W>]`), at most 256 entries of 64 KiB; like
 * `fetchTile`, the full bundle when the partial one is gone (its first entries are the same).
 */
export async function fetchEntryBundle (source: TileSource, index: number, width: number, options: HttpOptions = {}): Promise<Uint8Array> {
  const get = async (w: number): Promise<Uint8Array> => httpGet(tlogUrl(source, entryBundlePath(index, w)), 'application/octet-stream', { maxBytes: 256 * 65_537, ...options })
  try {
    return await get(width)
  } catch (err) {
    if (width === 256 || !(err instanceof ScittError && err.code === 'NOT_FOUND')) throw err
    return get(256)
  }
}
