/**
 * The guard against signing a second history. A log key signs one append-only history; a node that
 * lost or rolled back its data dir (a mistyped `dataDir`, an unmounted volume, a restored backup) and
 * went on signing would fork its own log. So the node keeps, outside its data dir, the latest size and
 * root it signed (`keys.logHead`, by default `log-head.json` beside the log key, replaced atomically
 * after each checkpoint) and halts when:
 * - at start, the log in the data dir is smaller than that, or has another root at that size;
 * - a witness has cosigned a larger size of this log than the log holds (its 409 names the size);
 * - a peer gossips a checkpoint of this log, validly signed, larger than the log holds.
 * Halted, the node signs nothing new: registrations are refused (503, stable code PUSHBACK with the
 * reason), `/readyz` answers 503 `halted`, and `scitt_log_halted` is 1, until the operator restores
 * the data dir and restarts, or deliberately starts a new log by deleting that file (see the
 * README's operator guide).
 */
import { readFileSync } from 'node:fs'
import { rename, writeFile } from 'node:fs/promises'
import { equalBytes, fromBase64, toBase64 } from '@scitt/core'
import type { Log, PublishedCheckpoint } from '@scitt/log'
import type { Logger } from './logger.js'

export interface Halt {
  reason: string
  since: number
}

interface LogHead {
  origin: string
  size: number
  rootHash: Uint8Array
}

/** Strict: undefined when the file does not exist, TypeError naming the file when it is not a log head of `origin`. */
function readLogHead (file: string, origin: string): LogHead | undefined {
  let text: string
  try {
    text = readFileSync(file, 'utf8')
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined
    throw err
  }
  const v = JSON.parse(text) as Record<string, unknown>
  if (typeof v !== 'object' || v === null || v.origin !== origin || !Number.isSafeInteger(v.size) || (v.size as number) < 0 || typeof v.rootHash !== 'string') {
    throw new TypeError(`${file} is not the log head of ${origin}: delete it only to start a new log deliberately`)
  }
  const rootHash = fromBase64(v.rootHash)
  if (rootHash.length !== 32) throw new TypeError(`${file}: rootHash is not 32 bytes`)
  return { origin, size: v.size as number, rootHash }
}

export class HistoryGuard {
  readonly #file: string
  readonly #origin: string
  readonly #logger: Logger
  #halt: Halt | undefined
  #writing: Promise<void> | undefined
  #next: PublishedCheckpoint | undefined

  /** `file`: where the log head is recorded (keys.logHead). */
  constructor (file: string, origin: string, logger: Logger) {
    this.#file = file
    this.#origin = origin
    this.#logger = logger
  }

  get halted (): Halt | undefined {
    return this.#halt
  }

  /** Compares the opened log with the recorded head; halts on a loss or a fork, else records the log's head. */
  async check (log: Log): Promise<void> {
    const recorded = readLogHead(this.#file, this.#origin)
    const latest = log.latestCheckpoint()
    const size = latest?.size ?? 0
    const then = recorded !== undefined && recorded.size > 0 && recorded.size < size ? await log.checkpointAt(recorded.size).catch(() => undefined) : undefined
    if (recorded !== undefined && then !== undefined && !equalBytes(then.rootHash, recorded.rootHash)) {
      this.halt(`the log in the data dir has another root at size ${recorded.size} than the one this node signed (${this.#file}): it is another history; restore the data dir, or delete ${this.#file} to start a new log deliberately`)
    } else if (recorded !== undefined && recorded.size > size) {
      this.halt(`this node signed ${this.#origin} up to size ${recorded.size} (${this.#file}), but the log in its data dir has size ${size}: restore the data dir, or delete ${this.#file} to start a new log deliberately`)
    } else if (recorded !== undefined && recorded.size === size && latest !== undefined && !equalBytes(recorded.rootHash, latest.rootHash)) {
      this.halt(`the log in the data dir has size ${size} with another root than the one this node signed (${this.#file}): restore the data dir, or delete ${this.#file} to start a new log deliberately`)
    } else if (latest !== undefined) {
      this.record(latest)
    }
  }

  /** Records a new checkpoint of the log (not while halted); writes are coalesced, the latest wins. */
  record (cp: PublishedCheckpoint): void {
    if (this.#halt !== undefined) return
    this.#next = cp
    this.#writing ??= this.#write().finally(() => { this.#writing = undefined })
  }

  async #write (): Promise<void> {
    while (this.#next !== undefined) {
      const cp = this.#next
      this.#next = undefined
      const tmp = `${this.#file}.tmp`
      try {
        await writeFile(tmp, `${JSON.stringify({ origin: this.#origin, size: cp.size, rootHash: toBase64(cp.rootHash) })}\n`, { mode: 0o600 })
        await rename(tmp, this.#file)
      } catch (err) {
        this.#logger.error({ err: (err as Error).message, file: this.#file }, 'could not record the log head')
      }
    }
  }

  /** Halts the node's signing (the first reason stays). */
  halt (reason: string): void {
    if (this.#halt !== undefined) return
    this.#halt = { reason, since: Date.now() }
    this.#logger.error({ reason }, 'halted: this node will not sign a second history of its log')
  }

  /** Resolves once the recorded head is written. */
  async flush (): Promise<void> {
    while (this.#writing !== undefined) await this.#writing
  }
}
