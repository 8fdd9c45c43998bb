/**
 * "One size, one root" across processes: every signed checkpoint seen anywhere during a
 * fault scenario — a node's GET /checkpoint, the heads a peer shows at GET /federation, a witness's
 * stored state, the roots receipts are sealed over — is recorded per origin; two of one size with
 * different roots are a conflict. Notes must verify with the origin's log key to count.
 */
import { Level } from 'level'
import { openNote, parseCheckpoint, toHex, type NoteVerifier } from '@scitt/core'
import { call } from './process-load.js'

export interface Conflict { origin: string, size: number, roots: [string, string], sources: [string, string] }

export class CheckpointBook {
  /** origin → size → [root hex, where it was seen first]. */
  readonly #roots = new Map<string, Map<number, [string, string]>>()
  readonly #verifiers: Map<string, NoteVerifier>
  readonly conflicts: Conflict[] = []
  /** Signed checkpoints (and receipt roots) recorded. */
  seen = 0

  constructor (logVerifiers: NoteVerifier[]) {
    this.#verifiers = new Map(logVerifiers.map((v) => [v.name, v]))
  }

  /** Records a root of `origin` at `size` signed by one of its keys (a note or a receipt seal). */
  addRoot (origin: string, size: number, root: Uint8Array, source: string): void {
    this.seen++
    let bySize = this.#roots.get(origin)
    if (bySize === undefined) this.#roots.set(origin, bySize = new Map())
    const hex = toHex(root)
    const known = bySize.get(size)
    if (known === undefined) bySize.set(size, [hex, source])
    else if (known[0] !== hex) this.conflicts.push({ origin, size, roots: [known[0], hex], sources: [known[1], source] })
  }

  /** Records a checkpoint note; it must carry a valid signature of its origin's log key. */
  addNote (note: string, source: string): { origin: string, size: number } {
    const { note: parsed, verified } = openNote(note, [...this.#verifiers.values()])
    const cp = parseCheckpoint(parsed.text)
    const key = this.#verifiers.get(cp.origin)
    if (key === undefined || !verified.some((s) => s.name === key.name && s.keyId === key.keyId)) throw new Error(`${source}: checkpoint of ${cp.origin} without its log signature`)
    this.addRoot(cp.origin, cp.size, cp.rootHash, source)
    return { origin: cp.origin, size: cp.size }
  }

  /** GET /checkpoint of a node (its own origin); undefined when the node does not answer or has none. */
  async fromCheckpoint (url: string, source: string): Promise<{ origin: string, size: number } | undefined> {
    const res = await call(`${url}/checkpoint`, { timeoutMs: 5000 }).catch(() => undefined)
    if (res?.status !== 200) return undefined
    return this.addNote(new TextDecoder().decode(res.body), source)
  }

  /** Every head GET /federation of a node shows (origins with a log key known here); returns origin → size. */
  async fromFederation (url: string, source: string): Promise<Map<string, number> | undefined> {
    const res = await call(`${url}/federation`, { timeoutMs: 5000 }).catch(() => undefined)
    if (res?.status !== 200) return undefined
    const status = JSON.parse(new TextDecoder().decode(res.body)) as { origins: Array<{ origin: string, size: number, note: string }> }
    const sizes = new Map<string, number>()
    for (const head of status.origins) {
      if (!this.#verifiers.has(head.origin)) continue
      this.addNote(head.note, `${source} /federation`)
      sizes.set(head.origin, head.size)
    }
    return sizes
  }

  /** The witness state stored in a stopped node's LevelDB (sublevel "federation", keys "witness/…"). */
  async fromWitnessState (dataDir: string, source: string): Promise<number> {
    const db = new Level<string, Uint8Array>(dataDir, { keyEncoding: 'utf8', valueEncoding: 'view', createIfMissing: false })
    await db.open()
    let n = 0
    try {
      const states = db.sublevel<string, Uint8Array>('federation', { keyEncoding: 'utf8', valueEncoding: 'view' })
      for (const value of await states.values({ gte: 'witness/', lt: 'witness0' }).all()) {
        // size (u64be) ‖ root (32 bytes) ‖ the log-signed note
        const { origin, size } = this.addNote(new TextDecoder().decode(value.subarray(40)), `${source} witness state`)
        const sizeField = Number(new DataView(value.buffer, value.byteOffset, 8).getBigUint64(0))
        if (sizeField !== size) throw new Error(`${source}: witness state of ${origin} says size ${sizeField}, its note ${size}`)
        this.addRoot(origin, size, value.subarray(8, 40), `${source} witness state (root field)`)
        n++
      }
    } finally {
      await db.close()
    }
    return n
  }
}
