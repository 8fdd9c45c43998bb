/**
 * The stable codes of verification checks (`Check.verifyCode`): what a check found, for tools to match
 * on, never the reason text. A check that passed has `OK`; one that failed on a ScittError has that
 * error's code (core's `ErrorCode`: `BAD_SIGNATURE`, `BAD_PROOF`, `POLICY`, `MALFORMED`, ...); one that
 * failed or was skipped because a key, a checkpoint or an input was not given has one of the codes
 * below, each falling under the `ErrorCode` it maps to (`Check.code`).
 */
import type { ErrorCode } from '@scitt/core'

/** The codes beyond core's error codes, each with the error code it falls under (none for `OK`, `ERROR`). */
export const VERIFY_CODES = {
  /** The check passed. */
  OK: undefined,
  /** `issuer-signature` skipped: no issuer key was given, and did:key issuers are not accepted. */
  NO_ISSUER_KEY: 'UNKNOWN_KEY',
  /** `issuer-signature` failed: issuer keys were given (or did:key accepted), none of the statement's kid and algorithm. */
  NO_MATCHING_ISSUER_KEY: 'UNKNOWN_KEY',
  /** `receipt[i]` skipped: no trusted node key has the receipt's kid and algorithm. */
  NO_TRUSTED_KEY: 'UNKNOWN_KEY',
  /** `receipts` failed: the transparent statement carries no receipt (label 394). */
  NO_RECEIPT: 'NOT_FOUND',
  /** `receipts` failed: no trusted node key was given, so no receipt could verify. */
  NO_NODE_KEYS: 'UNKNOWN_KEY',
  /** `receipts` failed: trusted node keys were given, but no receipt verified under one. */
  NO_RECEIPT_VERIFIED: 'UNKNOWN_KEY',
  /** `receipt[i].witnessed` failed: no cosigned checkpoint of the receipt's log at or above its tree size was given. */
  NO_CHECKPOINT: 'POLICY',
  /** `receipt[i].witnessed` failed: only larger cosigned checkpoints of the log were given, and no consistency proof source. */
  NO_CONSISTENCY_PROOF: 'POLICY',
  /** `entry` failed: a proof was given neither its statement nor a well-formed entry id. */
  NO_PROOF_SUBJECT: 'MALFORMED',
  /** `proof.checkpoint-signature` failed: no policy, and no given log key is named after the proof's origin. */
  NO_LOG_KEY: 'UNKNOWN_ORIGIN',
  /** `proof.checkpoint-signature` failed: the policy has no log line for the proof's origin. */
  ORIGIN_NOT_IN_POLICY: 'UNKNOWN_ORIGIN',
  /** A check failed on something other than a ScittError (e.g. a caller's consistency proof source threw). */
  ERROR: undefined,
} as const satisfies Record<string, ErrorCode | undefined>

export type VerifyCode = keyof typeof VERIFY_CODES | ErrorCode
