/**
 * A JSON file that keeps a follower's heads across runs (Node only): written to a temporary file and
 * renamed, so a crash leaves the old or the new state, never a torn one.
 */
import { readFile, rename, writeFile } from 'node:fs/promises'
import { ScittError } from '@scitt/core'
import type { Head, HeadStore } from './follower.js'

const MAX_STATE_SIZE = 16 * 1024 * 1024

function isHead (value: unknown): value is Head {
  if (typeof value !== 'object' || value === null) return false
  const h = value as Record<string, unknown>
  const source = h.source as Record<string, unknown> | undefined
  return typeof h.origin === 'string' && Number.isSafeInteger(h.size) && (h.size as number) >= 0 &&
    typeof h.rootHash === 'string' && typeof h.note === 'string' &&
    typeof source === 'object' && source !== null && typeof source.nodeUrl === 'string' &&
    (source.prefix === undefined || typeof source.prefix === 'string') &&
    (h.audited === undefined || isAudit(h.audited))
}

function isAudit (value: unknown): boolean {
  const a = value as Record<string, unknown> | null
  return typeof a === 'object' && a !== null && Number.isSafeInteger(a.size) && Array.isArray(a.peaks) && a.peaks.every((p) => typeof p === 'string')
}

/** A HeadStore in `file`; a missing file is an empty state, a malformed one is MALFORMED. */
export function jsonHeadStore (file: string): HeadStore {
  return {
    async load () {
      let text: string
      try {
        text = await readFile(file, 'utf8')
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') return []
        throw err
      }
      if (text.length > MAX_STATE_SIZE) throw new ScittError('TOO_LARGE', `state file ${file} is too large`)
      let json: unknown
      try {
        json = JSON.parse(text)
      } catch (cause) {
        throw new ScittError('MALFORMED', `state file ${file} is not JSON; move it away to start afresh`, { cause })
      }
      const heads = (json as { heads?: unknown }).heads
      if (!Array.isArray(heads) || !heads.every(isHead)) throw new ScittError('MALFORMED', `state file ${file} is not a follower state; move it away to start afresh`)
      return heads
    },
    async save (heads) {
      const tmp = `${file}.tmp`
      await writeFile(tmp, `${JSON.stringify({ heads }, null, 2)}\n`, { mode: 0o600 })
      await rename(tmp, file)
    },
  }
}
