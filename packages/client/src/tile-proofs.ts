/**
 * Merkle proofs read from a log's C2SP tlog-tiles over HTTP: the few hash tiles a proof touches are
 * fetched and core's RFC 9162 planners assemble the proof. Tiles are unsigned: verify what comes out
 * against signed roots.
 */
import { consistencyProof, readNodesFromTiles, type NodeReader, type TileId } from '@scitt/core'
import { fetchTile, type TileSource } from './fetch.js'
import type { HttpOptions } from './http.js'

export type TileReader = (source: TileSource, tile: TileId) => Promise<Uint8Array>

/** A NodeReader over the tiles of `source`'s tree of `size` leaves. */
export function tileNodeReader (source: TileSource, size: number, readTile?: TileReader, http?: HttpOptions): NodeReader {
  const read = readTile ?? (async (s: TileSource, t: TileId) => fetchTile(s, t, http))
  return async (ids) => readNodesFromTiles(ids, size, async (tile) => read(source, tile))
}

/** PROOF(size1, D[0:size2]) (RFC 9162 §2.1.4.1) from the tiles of `source`'s tree of size2. */
export async function consistencyProofFromTiles (source: TileSource, size1: number, size2: number, readTile?: TileReader, http?: HttpOptions): Promise<Uint8Array[]> {
  return consistencyProof(size1, size2, tileNodeReader(source, size2, readTile, http))
}
