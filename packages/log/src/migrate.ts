/**
 * Moves a log from the earlier layout, where its entry bundles and hash tile parts were database
 * records (layout.ts), to its files: the entries are replayed from the stored bundles in order,
 * every full tile, bundle and node record and the partial files at the stored size are written and
 * made durable, and only when the replayed tree equals the stored tree state are the old records
 * deleted. Interrupted, it leaves the old records in place and starts again at the next open (the
 * files it rewrites are the same bytes); nothing is lost either way.
 */
import { ScittError, TILE_WIDTH, equalBytes, leafHash, parseEntryBundle } from '@scitt/core'
import { scan, type LogDatabase } from './database.js'
import {
  LEGACY_BUNDLE_RANGE, LEGACY_TILE_RANGE, STATE_KEY, VIEW, copyBytes, decodeTreeState, indexFromLegacyBundleKey,
} from './layout.js'
import type { NodeRecords } from './node-records.js'
import type { StaticTree } from './static-tree.js'
import { TreeEdge } from './tree-edge.js'

/** Whether the database still holds records of the earlier layout. */
export async function hasLegacyLayout (db: LogDatabase): Promise<boolean> {
  for (const range of [LEGACY_BUNDLE_RANGE, LEGACY_TILE_RANGE]) {
    const it = db.iterator({ ...range, ...VIEW, limit: 1 })
    try {
      if ((await it.nextv(1)).length > 0) return true
    } finally {
      await it.close()
    }
  }
  return false
}

/** Migrates (see the module comment); resolves with the number of entries moved (0 when there was nothing to do). */
export async function migrateLegacyLayout (db: LogDatabase, tree: StaticTree, records: NodeRecords): Promise<number> {
  if (!(await hasLegacyLayout(db))) return 0
  const state = await db.get(STATE_KEY, VIEW)
  const { size, peaks } = state === undefined ? { size: 0, peaks: [] } : decodeTreeState(state)
  let edge = TreeEdge.empty()
  await scan(db, LEGACY_BUNDLE_RANGE, async (key, value) => {
    const n = indexFromLegacyBundleKey(key)
    const width = Math.min(TILE_WIDTH, size - n * TILE_WIDTH)
    if (n * TILE_WIDTH !== edge.size || width <= 0) throw migrationFailed(`stored entry bundle ${n} does not follow the ${edge.size} entries before it`)
    const leaves = parseEntryBundle(value, width).map((entry) => ({ entry: copyBytes(entry), leafHash: leafHash(entry) }))
    const step = edge.extend(leaves)
    // Partials only at the stored size: the tiles in between were never signed at other widths here.
    const last = edge.size + leaves.length === size
    const files = [...step.files.filter((f) => !f.path.includes('.p/')), ...(last ? step.edge.edgeFiles() : [])]
    await Promise.all([tree.write(files), records.write(step.records)])
    edge = step.edge
  })
  if (edge.size !== size || edge.range.peaks.length !== peaks.length || edge.range.peaks.some((p, i) => !equalBytes(p, peaks[i]!))) {
    throw migrationFailed(`the stored entries give a tree of size ${edge.size} that is not the stored tree of size ${size}`)
  }
  await db.clear({ ...LEGACY_TILE_RANGE, ...VIEW })
  await db.clear({ ...LEGACY_BUNDLE_RANGE, ...VIEW })
  return size
}

function migrationFailed (message: string): ScittError {
  return new ScittError('INTERNAL', `migration to files failed: ${message}; the log is unchanged`)
}
