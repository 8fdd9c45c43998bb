/**
 * Asks a witness to cosign a checkpoint of the node's own log (C2SP tlog-witness client): sends
 * `add-checkpoint` with the consistency proof from the size the witness last cosigned, retries once
 * from the size a 409 (`text/x.tlog.size`) names, and returns the witness's cosignature line only
 * after verifying it (cosignature/v1 under the policy's vkey) over the checkpoint's text.
 * Transports: the libp2p add-checkpoint protocol for federation peers, HTTP for external witnesses.
 */
import {
  ScittError, formatAddCheckpointRequest, parseCosignatureLines, parseNote, parseTreeSizeBody, utf8,
  type NoteSignature, type PolicyWitness,
} from '@scitt/core'
import { readLimited } from '../read-limited.js'

export interface WitnessAnswer {
  status: number
  body: Uint8Array
}

/** Delivers one request body to a witness and returns its answer. */
export type WitnessTransport = (body: string) => Promise<WitnessAnswer>

export interface CosignTarget {
  /** The signed checkpoint note of the node's log. */
  note: string
  size: number
}

/** Reads a consistency proof of the node's log between two sizes. */
export type ProofReader = (size1: number, size2: number) => Promise<Uint8Array[]>

export class WitnessClient {
  /** Per witness (policy name): the size it last cosigned for this log. */
  readonly #known = new Map<string, number>()
  readonly #proof: ProofReader

  constructor (proof: ProofReader) {
    this.#proof = proof
  }

  knownSize (witness: string): number | undefined {
    return this.#known.get(witness)
  }

  /** The verified cosignature of `witness` on the checkpoint (ScittError when refused or invalid). */
  async cosign (witness: PolicyWitness, transport: WitnessTransport, target: CosignTarget): Promise<NoteSignature> {
    const text = parseNote(target.note).text
    let oldSize = Math.min(this.#known.get(witness.name) ?? 0, target.size)
    for (let attempt = 0; attempt < 2; attempt++) {
      const proof = oldSize === 0 || oldSize === target.size ? [] : await this.#proof(oldSize, target.size)
      const answer = await transport(formatAddCheckpointRequest({ oldSize, proof, checkpoint: target.note }))
      if (answer.status === 409) {
        const size = parseTreeSizeBody(answer.body)
        if (size > target.size) throw new ScittError('CONFLICT', `witness ${witness.name} has cosigned size ${size} of this log, beyond its ${target.size}`, { details: { knownSize: size } })
        this.#known.set(witness.name, size)
        oldSize = size
        continue
      }
      if (answer.status !== 200) {
        throw new ScittError('POLICY', `witness ${witness.name} answered ${answer.status}: ${new TextDecoder().decode(answer.body.subarray(0, 200)).trim()}`, { details: { status: answer.status } })
      }
      const sig = parseCosignatureLines(answer.body).find((s) => s.name === witness.keyName && s.keyId === witness.keyId)
      if (sig === undefined || !witness.verifier.verify(utf8(text), sig.signature)) {
        throw new ScittError('BAD_SIGNATURE', `witness ${witness.name} returned no valid cosignature`)
      }
      this.#known.set(witness.name, target.size)
      return sig
    }
    throw new ScittError('CONFLICT', `witness ${witness.name} kept answering 409`)
  }
}

/** HTTP transport to an external C2SP witness (`<url>/add-checkpoint`). */
export function httpWitnessTransport (baseUrl: string, timeoutMs: number): WitnessTransport {
  const url = `${baseUrl.replace(/\/+$/, '')}/add-checkpoint`
  return async (body) => {
    const res = await fetch(url, { method: 'POST', body, headers: { 'content-type': 'text/plain; charset=utf-8' }, signal: AbortSignal.timeout(timeoutMs) })
    return { status: res.status, body: await readLimited(res, 64 * 1024, 'witness answer') }
  }
}
