/**
 * The layout of a node's data dir (docs/architecture.md "Storage"):
 *
 *   <dataDir>/                     the LevelDB database (entry-id index, tree state, checkpoints, seals,
 *                                  the federation sublevel, one sublevel per mirror)
 *   <dataDir>/log/                 the own log's C2SP static tree: checkpoint, tile/… (serve it as `/`)
 *   <dataDir>/mirrors/<origin hash>/   each mirrored log's static tree (serve `mirrors/` as `/`, as a
 *                                  C2SP tlog-mirror monitoring prefix)
 *   <dataDir>/nodes/log/, <dataDir>/nodes/<origin hash>/   the inner nodes of their full tiles (not served)
 *
 * LevelDB ignores the directories it did not make.
 */
import { join } from 'node:path'
import { originHash } from '@scitt/core'
import type { LogFiles } from '@scitt/log'

/** The files of the node's own log. */
export function ownLogFiles (dataDir: string): LogFiles {
  return { dir: join(dataDir, 'log'), nodesDir: join(dataDir, 'nodes', 'log') }
}

/** The files of a mirrored log. */
export function mirrorLogFiles (dataDir: string, origin: string): LogFiles {
  const hash = originHash(origin)
  return { dir: join(dataDir, 'mirrors', hash), nodesDir: join(dataDir, 'nodes', hash) }
}
