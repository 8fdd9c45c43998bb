/**
 * What every `scitt` sub-command shares: argument parsing (node:util parseArgs, strict), exit codes,
 * file input and output, key loading, and output as text or JSON.
 *
 * Exit codes: 0 ok; 1 verification failed (a check failed, a quorum was not met, a split view);
 * 2 usage or input error (bad arguments, unreadable or malformed files, a node that refused or failed).
 */
import { randomBytes } from 'node:crypto'
import { closeSync, fsyncSync, linkSync, lstatSync, openSync, readFileSync, renameSync, rmSync, statSync, writeFileSync, writeSync } from 'node:fs'
import { basename, dirname, join } from 'node:path'
import { parseArgs, type ParseArgsConfig } from 'node:util'
import { isScittError, parsePolicy, type CoseKey, type Policy } from '@scitt/core'
import { nodeSignatures } from '@scitt/node-crypto'
import { parsePublicKeys, signerFromJwk, type IssuerSigner } from '../keys.js'

export const EXIT = { ok: 0, failed: 1, usage: 2 } as const

/** A usage or input error: printed with its hint, exit 2. */
export class UsageError extends Error {
  override readonly name = 'UsageError'
}

export type Options = NonNullable<ParseArgsConfig['options']>

/** Parsed option values (node:util parseArgs). */
export type Values = Record<string, unknown>

export interface Command {
  name: string
  summary: string
  /** Full help text: synopsis, description, options, examples. */
  help: string
  options: Options
  /** Positional arguments accepted: [min, max]. */
  positionals: [number, number]
  run (values: Values, positionals: string[]): Promise<number>
}

const COMMON: Options = { help: { type: 'boolean', short: 'h' }, json: { type: 'boolean' } }

/** Parses a command's arguments; UsageError for anything unknown or missing. */
export function parse (command: Command, args: string[]): { values: Values, positionals: string[] } {
  let parsed
  try {
    parsed = parseArgs({ args, options: { ...COMMON, ...command.options }, allowPositionals: true, strict: true })
  } catch (err) {
    throw new UsageError(`${(err as Error).message}\nrun: scitt ${command.name} --help`)
  }
  if (parsed.values.help === true) return parsed
  const [min, max] = command.positionals
  if (parsed.positionals.length < min) throw new UsageError(`scitt ${command.name}: missing argument\n${command.help.split('\n')[0]}`)
  if (parsed.positionals.length > max) throw new UsageError(`scitt ${command.name}: unexpected argument ${JSON.stringify(parsed.positionals[max])}`)
  return parsed
}

/** A required string option. */
export function required (values: Record<string, unknown>, name: string, command: string): string {
  const value = values[name]
  if (typeof value !== 'string' || value === '') throw new UsageError(`scitt ${command}: --${name} is required (see scitt ${command} --help)`)
  return value
}

export function list (value: unknown): string[] {
  return Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : typeof value === 'string' ? [value] : []
}

/** A positive integer option, or the default. */
export function integer (value: unknown, name: string, fallback: number, min = 1): number {
  if (value === undefined) return fallback
  const n = Number(value)
  if (typeof value !== 'string' || !/^\d+$/.test(value) || !Number.isSafeInteger(n) || n < min) throw new UsageError(`--${name} must be an integer ≥ ${min}`)
  return n
}

/** A node URL: http or https. */
export function nodeUrl (value: string): string {
  let url: URL
  try {
    url = new URL(value)
  } catch {
    throw new UsageError(`--node ${JSON.stringify(value)} is not a URL; expected e.g. http://127.0.0.1:8080`)
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new UsageError(`--node must be an http(s) URL, got ${url.protocol}`)
  return url.toString()
}

const MAX_INPUT = 64 * 1024 * 1024

/** A file's bytes ('-' = stdin), UsageError naming it when it cannot be read. */
export function readInput (file: string, maxBytes = MAX_INPUT): Uint8Array {
  try {
    if (file !== '-' && statSync(file).size > maxBytes) throw new UsageError(`${file} is larger than ${maxBytes} bytes`)
    const bytes = readFileSync(file === '-' ? 0 : file)
    if (bytes.length > maxBytes) throw new UsageError(`${file} is larger than ${maxBytes} bytes`)
    return new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.length)
  } catch (err) {
    if (err instanceof UsageError) throw err
    throw new UsageError(`cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`)
  }
}

/**
 * UsageError unless `file` may be written by `writeOutput`: it must not exist, or with `force` be a
 * regular file (never a symlink, whatever it points to, nor a directory or device). For checking
 * before work that should not be done in vain (a registration); `writeOutput` enforces it again.
 */
export function checkOutput (file: string, force: boolean): void {
  let stat
  try {
    stat = lstatSync(file)
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return
    throw new UsageError(`cannot write ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`)
  }
  if (stat.isSymbolicLink()) throw new UsageError(`${file} is a symlink; refusing to write through or replace it (choose another --out)`)
  if (!stat.isFile()) throw new UsageError(`${file} exists and is not a regular file; refusing to replace it (choose another --out)`)
  if (!force) throw new UsageError(`${file} exists; refusing to overwrite it (pass --force to replace it)`)
}

const NO_HARD_LINKS = new Set(['EPERM', 'ENOTSUP', 'EOPNOTSUPP', 'ENOSYS', 'EMLINK'])

/**
 * Writes bytes to `file` (stdout for undefined or '-'; binary output to a terminal is refused), whole
 * or not at all, and never through a symlink: the bytes go to a new temp file in the same directory
 * (O_CREAT|O_EXCL, which fails on any existing name, a symlink included) and are synced; then the temp
 * file takes the name with link(2), which fails if the name exists, or with `force` (after
 * `checkOutput`: a regular file there) with rename(2), which replaces the name itself and never what a
 * link points to. Where the file system has no hard links, the name is created with O_EXCL directly
 * (still never over a file or through a symlink, but no longer all or nothing).
 */
export function writeOutput (bytes: Uint8Array | string, file: string | undefined, binary: boolean, force = false): void {
  if (file === undefined || file === '-') {
    if (binary && process.stdout.isTTY === true) throw new UsageError('refusing to write binary output to a terminal: use --out FILE or redirect stdout')
    process.stdout.write(bytes)
    return
  }
  const fail = (err: unknown): UsageError => {
    if (err instanceof UsageError) return err
    const code = (err as NodeJS.ErrnoException).code
    if (code === 'EEXIST') return new UsageError(`${file} exists; refusing to overwrite it (pass --force to replace it)`)
    return new UsageError(`cannot write ${file}: ${code ?? (err as Error).message}`)
  }
  checkOutput(file, force)
  const temp = join(dirname(file), `.${basename(file)}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`)
  try {
    writeNew(temp, bytes)
    if (force) {
      checkOutput(file, true)
      renameSync(temp, file)
      return
    }
    try {
      linkSync(temp, file)
    } catch (err) {
      if (!NO_HARD_LINKS.has((err as NodeJS.ErrnoException).code ?? '')) throw err
      writeNew(file, bytes)
    }
  } catch (err) {
    throw fail(err)
  } finally {
    rmSync(temp, { force: true })
  }
}

/** Creates `file` (O_CREAT|O_EXCL|O_WRONLY: never an existing name, never through a symlink), writes and syncs it. */
function writeNew (file: string, bytes: Uint8Array | string): void {
  const fd = openSync(file, 'wx')
  try {
    writeFileSync(fd, bytes)
    fsyncSync(fd)
  } finally {
    closeSync(fd)
  }
}

/** Creates a file that only its owner can read (0600); refuses to overwrite one. */
export function writeSecretFile (file: string, text: string): void {
  let fd: number
  try {
    fd = openSync(file, 'wx', 0o600)
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code
    throw new UsageError(code === 'EEXIST' ? `${file} exists; refusing to overwrite a key (choose another --out)` : `cannot create ${file}: ${code ?? (err as Error).message}`)
  }
  try {
    writeSync(fd, text)
  } finally {
    closeSync(fd)
  }
}

/** The issuer signer in a secret key file written by `scitt keygen`; refuses a file others can read. */
export function loadSecretKey (file: string): IssuerSigner {
  let mode: number
  try {
    mode = statSync(file).mode
  } catch (err) {
    throw new UsageError(`cannot read key file ${file}: ${(err as NodeJS.ErrnoException).code ?? 'error'}`)
  }
  if ((mode & 0o077) !== 0) throw new UsageError(`key file ${file} is readable by group or others (mode ${(mode & 0o777).toString(8)}): run chmod 600 ${file}`)
  let jwk: unknown
  try {
    jwk = JSON.parse(new TextDecoder().decode(readInput(file, 64 * 1024)))
  } catch (err) {
    if (err instanceof UsageError) throw err
    throw new UsageError(`key file ${file} is not JSON: expected a private JWK written by scitt keygen`)
  }
  try {
    return signerFromJwk(jwk, nodeSignatures)
  } catch (err) {
    throw new UsageError(`key file ${file}: ${(err as Error).message}`)
  }
}

/** Public keys from files (COSE_Key / COSE_KeySet / JWK / did:key), or a did:key given inline. */
export function loadPublicKeys (sources: string[], what: string): CoseKey[] {
  return sources.flatMap((source) => {
    try {
      return parsePublicKeys(source.startsWith('did:key:') ? new TextEncoder().encode(source) : readInput(source, 1 << 20))
    } catch (err) {
      if (err instanceof UsageError) throw err
      throw new UsageError(`${what} ${source}: ${(err as Error).message} (expected a COSE_Key, COSE_KeySet, JWK or did:key)`)
    }
  })
}

export function loadPolicy (file: string | undefined): Policy | undefined {
  if (file === undefined) return undefined
  try {
    return parsePolicy(readInput(file, 262_144), nodeSignatures)
  } catch (err) {
    if (err instanceof UsageError) throw err
    throw new UsageError(`policy ${file}: ${(err as Error).message}`)
  }
}

/** Prints a JSON value on stdout (--json). */
export function printJson (value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`)
}

/** A line on stderr. */
export function info (text: string): void {
  process.stderr.write(`${text}\n`)
}

/** A one-line progress bar on stderr, drawn only when stderr is a terminal. */
export function progressBar (total: number, label: string): { tick: (done: number) => void, end: () => void } {
  const tty = process.stderr.isTTY === true
  const width = 30
  const draw = (done: number): void => {
    const filled = total === 0 ? width : Math.round((done / total) * width)
    process.stderr.write(`\r${label} [${'#'.repeat(filled)}${' '.repeat(width - filled)}] ${done}/${total}`)
  }
  return {
    tick: (done) => { if (tty) draw(done) },
    end: () => { if (tty) process.stderr.write('\n') },
  }
}

/** The exit code and message for an error thrown by a command. */
export function explain (err: unknown): { code: number, message: string } {
  if (err instanceof UsageError) return { code: EXIT.usage, message: err.message }
  if (isScittError(err)) {
    const code = err.code === 'INCONSISTENT' || err.code === 'BAD_SIGNATURE' || err.code === 'BAD_PROOF' ? EXIT.failed : EXIT.usage
    return { code, message: `${err.code}: ${err.message}` }
  }
  return { code: EXIT.usage, message: `error: ${(err as Error)?.message ?? String(err)}` }
}
