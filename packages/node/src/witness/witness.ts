/**
 * The node as a C2SP tlog-witness: `add-checkpoint` with core's pure decision table
 * (`evaluateAddCheckpoint`), the per-origin compare-and-swap state of `WitnessStore`, and
 * cosignature/v1 lines signed with the node's witness key. Used by `POST /add-checkpoint` and by the
 * libp2p add-checkpoint protocol alike.
 *
 * Beyond the spec's table: an origin with recorded evidence of equivocation is refused (422), and a
 * validly signed checkpoint of the cosigned size with another root is reported to `onConflict` (it is
 * self-contained evidence: both notes carry the log's signature). An origin without a trusted log key
 * is answered 404 before the state is looked up, so it leaves no state; the 404 names at most the
 * first 64 characters of the origin. Admission (rate and concurrency limits) is the transport's, before
 * the body is read: witness-limits.ts.
 */
import {
  cosignCheckpoint, evaluateAddCheckpoint, formatCosignatureLines, formatTreeSizeBody, isScittError, parseAddCheckpointRequest,
  type ErrorCode, type NoteSigner, type NoteVerifier, type ParsedAddCheckpointRequest,
} from '@scitt/core'
import type { WitnessStore } from './witness-store.js'

/** An add-checkpoint answer: HTTP status, media type and body, the same over HTTP and libp2p. */
export interface WitnessResponse {
  status: 200 | 400 | 403 | 404 | 409 | 422 | 429 | 503
  contentType: string
  body: string
  /** The error code behind a refusal (for logs and metrics). */
  code?: ErrorCode
}

export const TREE_SIZE_MEDIA_TYPE = 'text/x.tlog.size'
const TEXT = 'text/plain; charset=utf-8'
/** Characters of an unknown origin a 404 repeats. */
const ORIGIN_SHOWN = 64

export interface WitnessOptions {
  store: WitnessStore
  /** Signs cosignature/v1 (type 0x04) with the witness key. */
  cosigner: NoteSigner
  /** The log keys trusted for an origin (each named after it); none makes it unknown (404). */
  logKeys: (origin: string) => readonly NoteVerifier[]
  /** A reason to refuse cosigning the origin (its recorded equivocation), or undefined. */
  refuses?: (origin: string) => string | undefined
  /** Called with two validly signed notes of one size and different roots. */
  onConflict?: (origin: string, cosigned: string, conflicting: string) => void
}

/** A refusal answer: text/plain with the reason on one line. */
export function refusal (status: WitnessResponse['status'], code: ErrorCode, reason: string): WitnessResponse {
  return { status, contentType: TEXT, body: `${reason}\n`, code }
}

export class Witness {
  readonly #options: WitnessOptions

  constructor (options: WitnessOptions) {
    this.#options = options
  }

  get cosignerName (): string {
    return this.#options.cosigner.name
  }

  /** Answers one add-checkpoint request body (C2SP tlog-witness). Never throws for bad input. */
  async addCheckpoint (body: Uint8Array | string): Promise<WitnessResponse> {
    let request: ParsedAddCheckpointRequest
    try {
      request = parseAddCheckpointRequest(body)
    } catch (err) {
      if (isScittError(err)) return refusal(400, err.code, err.message)
      throw err
    }
    const { origin } = request
    const logKeys = this.#options.logKeys(origin)
    if (logKeys.length === 0 || logKeys.some((k) => k.name !== origin)) {
      const shown = origin.length > ORIGIN_SHOWN ? `${origin.slice(0, ORIGIN_SHOWN)}…` : origin
      return refusal(404, 'UNKNOWN_ORIGIN', `unknown origin ${JSON.stringify(shown)}`)
    }
    return await this.#options.store.update(origin, (known) => {
      const outcome = evaluateAddCheckpoint({ request, logKeys, known })
      if (outcome.status === 409) {
        return { result: { status: 409, contentType: TREE_SIZE_MEDIA_TYPE, body: formatTreeSizeBody(outcome.knownSize ?? 0), code: outcome.code } }
      }
      if (outcome.status !== 200) {
        if (outcome.code === 'INCONSISTENT' && known !== undefined) this.#options.onConflict?.(origin, known.note, request.checkpoint)
        return { result: refusal(outcome.status, outcome.code, outcome.reason) }
      }
      const refused = this.#options.refuses?.(origin)
      if (refused !== undefined) return { result: refusal(422, 'INCONSISTENT', `origin ${JSON.stringify(origin)} has equivocated: ${refused}`) }
      const cosignature = cosignCheckpoint(outcome.note.text, this.#options.cosigner)
      const { size, rootHash } = outcome.checkpoint
      return {
        next: { size, rootHash, note: request.checkpoint },
        result: { status: 200, contentType: TEXT, body: formatCosignatureLines([cosignature]) },
      }
    })
  }
}
