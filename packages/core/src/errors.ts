/**
 * The one error class of the project. Callers match on `code`, never on the message.
 * Programmer misuse (a wrong argument type or length) throws TypeError / RangeError instead.
 */
export const ERROR_CODES = [
  'MALFORMED', // input that does not parse strictly and canonically
  'TOO_LARGE', // input over a size limit
  'UNSUPPORTED', // a well-formed value this implementation does not support (algorithm, vds, key type)
  'BAD_SIGNATURE', // a signature that does not verify, or no trusted signature at all
  'UNKNOWN_KEY', // no key is known for the signer named
  'UNKNOWN_ORIGIN', // a log origin nobody trusts
  'BAD_PROOF', // an inclusion or consistency proof that does not verify
  'INCONSISTENT', // two signed views that cannot both be true (carries evidence)
  'CONFLICT', // a state conflict, e.g. a witness's old size does not match
  'POLICY', // rejected by a registration, trust or witness policy
  'PUSHBACK', // overloaded: try again later
  'NOT_FOUND', // no such entry, tile, checkpoint or key
  'INTERNAL', // a broken invariant inside this process
] as const

export type ErrorCode = (typeof ERROR_CODES)[number]

export interface ScittErrorOptions {
  cause?: unknown
  /** Structured details for callers (e.g. a witness's known size, equivocation evidence). */
  details?: Record<string, unknown>
}

export class ScittError extends Error {
  override readonly name = 'ScittError'
  readonly code: ErrorCode
  readonly details: Record<string, unknown> | undefined

  constructor (code: ErrorCode, message: string, options: ScittErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause })
    this.code = code
    this.details = options.details
  }
}

/** True when `err` is a ScittError (by name, so it works across package copies) and, if given, has `code`. */
export function isScittError (err: unknown, code?: ErrorCode): err is ScittError {
  return err instanceof Error && err.name === 'ScittError' &&
    typeof (err as ScittError).code === 'string' &&
    (code === undefined || (err as ScittError).code === code)
}

/** A decoded value as an error message shows it: numbers, strings and bigints as themselves, anything else by its kind. */
export function shown (value: unknown): string {
  if (typeof value === 'number' || typeof value === 'bigint') return `${value}`
  if (typeof value === 'string') return JSON.stringify(value.length > 64 ? `${value.slice(0, 64)}…` : value)
  if (value instanceof Uint8Array) return `a ${value.length}-byte string`
  if (value instanceof Map) return 'a map'
  if (Array.isArray(value)) return 'an array'
  return `${value === null ? 'null' : typeof value}`
}

/** Shorthand for the most common failure: strict parsing rejected the input. */
export function malformed (message: string, cause?: unknown): ScittError {
  return new ScittError('MALFORMED', message, cause === undefined ? {} : { cause })
}
