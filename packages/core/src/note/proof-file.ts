/**
 * C2SP tlog-proof (untagged HEAD): an offline proof that an entry is in a log.
 *
 *   c2sp.org/tlog-proof@v1
 *   [extra <base64>]
 *   index <decimal>
 *   <base64 inclusion-proof hash, leaf sibling first>...
 *   <blank line>
 *   <the signed checkpoint note verbatim, with its cosignatures>
 */
import { assertBytes, fromBase64, toBase64 } from '../bytes.js'
import { ScittError, malformed } from '../errors.js'
import { HASH_SIZE } from '../merkle/hash.js'
import { verifyInclusion } from '../merkle/inclusion-proof.js'
import { openCheckpoint, parseCheckpoint, type Checkpoint } from './checkpoint.js'
import { policySatisfied, type Policy } from './policy.js'
import { MAX_NOTE_SIZE, parseNote, type NoteVerifier } from './signed-note.js'
import { assertSafeSize, decodeText, nextLine, parseDecimal, readHashLines } from './text.js'

export const PROOF_FILE_HEADER = 'c2sp.org/tlog-proof@v1'
/** Most inclusion-proof lines (a tree of at most 2^63 leaves). */
export const MAX_INCLUSION_PROOF_LINES = 63
/** Largest proof file: a maximal note plus 64 KiB for the header, extra data and proof lines. */
export const MAX_PROOF_FILE_SIZE = MAX_NOTE_SIZE + 65_536

export interface ProofFile {
  /** Opaque, unauthenticated application data. */
  extra?: Uint8Array
  /** Leaf index of the entry. */
  index: number
  /** Inclusion proof, from the leaf's sibling up to the root's child. */
  proof: Uint8Array[]
  /** The signed checkpoint note verbatim, with cosignatures. */
  checkpoint: string
}

export function formatProofFile (file: ProofFile): string {
  if (file.extra !== undefined) assertBytes(file.extra, 'extra')
  assertSafeSize(file.index, 'index')
  if (!Array.isArray(file.proof) || file.proof.length > MAX_INCLUSION_PROOF_LINES) {
    throw new RangeError(`proof must be an array of at most ${MAX_INCLUSION_PROOF_LINES} hashes`)
  }
  for (const h of file.proof) assertBytes(h, 'proof hash', HASH_SIZE)
  if (typeof file.checkpoint !== 'string') throw new TypeError('checkpoint must be a string')
  const extra = file.extra === undefined ? '' : `extra ${toBase64(file.extra)}\n`
  return `${PROOF_FILE_HEADER}\n${extra}index ${file.index}\n${file.proof.map((h) => `${toBase64(h)}\n`).join('')}\n${file.checkpoint}`
}

/**
 * Strict parser: the header line, an optional `extra` line (strict base64), a canonical `index`, at most
 * 63 hash lines of 32 bytes, a blank line, and a well-formed signed checkpoint note. MALFORMED on any
 * deviation, TOO_LARGE over MAX_PROOF_FILE_SIZE. Signatures and the proof are not verified here.
 */
export function parseProofFile (input: Uint8Array | string): ProofFile {
  const text = decodeText(input, MAX_PROOF_FILE_SIZE, 'proof file')
  let { line, next } = nextLine(text, 0, 'proof file')
  if (line !== PROOF_FILE_HEADER) throw malformed(`proof file does not start with ${PROOF_FILE_HEADER}`)
  ;({ line, next } = nextLine(text, next, 'proof file'))
  let extra: Uint8Array | undefined
  if (line.startsWith('extra ')) {
    try {
      extra = fromBase64(line.slice(6))
    } catch (cause) {
      throw malformed('proof file extra data is not base64', cause)
    }
    ;({ line, next } = nextLine(text, next, 'proof file'))
  }
  if (!line.startsWith('index ')) throw malformed('proof file has no index line')
  const index = parseDecimal(line.slice(6), 'proof file index')
  const { hashes: proof, next: end } = readHashLines(text, next, MAX_INCLUSION_PROOF_LINES, 'inclusion proof')
  const checkpoint = text.slice(end)
  parseCheckpoint(parseNote(checkpoint).text)
  return { ...(extra === undefined ? {} : { extra }), index, proof, checkpoint }
}

/**
 * Verifies a proof file for an entry whose RFC 9162 leaf hash is `leafHash`: the checkpoint's origin and
 * log signature (`openCheckpoint`), the witness quorum when `policy` is given (POLICY), then the inclusion
 * proof (BAD_PROOF). Returns the checkpoint. With `now` (POSIX seconds, a non-negative safe integer), a
 * cosignature timestamped after `now` does not count towards the quorum (C2SP tlog-cosignature: the
 * timestamp is when the witness saw the checkpoint; one from the future is not evidence yet).
 */
export function verifyProofFile (file: ProofFile, leafHash: Uint8Array, logVerifier: NoteVerifier, policy?: Policy, now?: number): Checkpoint {
  assertBytes(leafHash, 'leafHash', HASH_SIZE)
  if (now !== undefined) assertSafeSize(now, 'now')
  const { checkpoint, note } = openCheckpoint(file.checkpoint, logVerifier)
  if (policy !== undefined) {
    const result = policySatisfied(policy, note, now)
    if (!result.ok) {
      throw new ScittError('POLICY', `checkpoint cosignatures do not meet quorum ${JSON.stringify(policy.quorum)} (valid: ${result.witnesses.join(', ') || 'none'})`, {
        details: { witnesses: result.witnesses, invalid: result.invalid },
      })
    }
  }
  verifyInclusion(file.index, checkpoint.size, leafHash, file.proof, checkpoint.rootHash)
  return checkpoint
}
