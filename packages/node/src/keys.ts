/**
 * The node's key files (docs/architecture.md "Invariants": keys never leave their files, mode 0600, never
 * logged). One file per key:
 * - log key (Ed25519): Go `sumdb/note` skey text `PRIVATE+KEY+<origin>+<id>+<base64>`, named by the origin;
 * - receipt key (ES256 by default, or ES384 / Ed25519): a private JWK (RFC 7517) with its "alg";
 * - witness key (Ed25519): skey text, named `<origin>/witness`;
 * - libp2p peer key: the raw 32-byte Ed25519 seed.
 * Files are created exclusively (never overwritten) with mode 0600; a key file readable by group or
 * others is refused.
 */
import { closeSync, existsSync, fsyncSync, mkdirSync, openSync, readFileSync, statSync, writeSync } from 'node:fs'
import { join } from 'node:path'
import {
  coseKeyThumbprint, formatSkey, formatVkey, NOTE_KEY_TYPE_COSIGNATURE_V1, fromBase64Url, parseSkey, toBase64Url, vkeyFromSkey,
  type CoseKey, type SignatureAlgorithm, type Signer,
} from '@scitt/core'
import { nodeSignatures } from '@scitt/node-crypto'

export class KeyFileError extends Error {
  override readonly name = 'KeyFileError'
}

export const KEY_FILES = { log: 'log.key', receipt: 'receipt.key', witness: 'witness.key', peer: 'peer.key' } as const

const JWK_CURVE: Record<SignatureAlgorithm, { kty: string, crv: string }> = {
  Ed25519: { kty: 'OKP', crv: 'Ed25519' },
  ES256: { kty: 'EC', crv: 'P-256' },
  ES384: { kty: 'EC', crv: 'P-384' },
}

/** Writes a new file with mode 0600; fails if it exists. */
/** Creates `file` (0600, never over an existing one) with `data`, on disk before it returns. */
function writeSecret (file: string, data: string | Uint8Array): void {
  const fd = openSync(file, 'wx', 0o600)
  try {
    writeSync(fd, typeof data === 'string' ? Buffer.from(data, 'utf8') : data)
    fsyncSync(fd)
  } finally {
    closeSync(fd)
  }
}

/** Makes the directory entries of files just created durable. */
function syncDirectory (dir: string): void {
  const fd = openSync(dir, 'r')
  try {
    fsyncSync(fd)
  } finally {
    closeSync(fd)
  }
}

/** Reads a key file, refusing one that group or others may read or write. */
export function readKeyFile (file: string): Buffer {
  let mode: number
  try {
    mode = statSync(file).mode
  } catch (err) {
    throw new KeyFileError(`cannot read key file ${file}: ${(err as NodeJS.ErrnoException).code ?? 'error'}`)
  }
  if ((mode & 0o077) !== 0) {
    throw new KeyFileError(`key file ${file} is accessible by group or others (mode ${(mode & 0o777).toString(8)}); run chmod 600 ${file}`)
  }
  return readFileSync(file)
}

export function witnessKeyName (origin: string): string {
  return `${origin}/witness`
}

/** The cosignature/v1 vkey (type 0x04) of a witness skey: what trust policies and descriptors list. */
export function witnessVkeyFromSkey (skey: string): string {
  const { name, seed } = parseSkey(skey, nodeSignatures)
  return formatVkey(name, NOTE_KEY_TYPE_COSIGNATURE_V1, nodeSignatures.signer('Ed25519', seed).publicKey)
}

function receiptJwk (algorithm: SignatureAlgorithm, secretKey: Uint8Array): Record<string, string> {
  const signer = nodeSignatures.signer(algorithm, secretKey)
  const { kty, crv } = JWK_CURVE[algorithm]
  const alg = algorithm === 'Ed25519' ? 'EdDSA' : algorithm
  if (algorithm === 'Ed25519') return { kty, crv, alg, x: toBase64Url(signer.publicKey), d: toBase64Url(secretKey) }
  const n = (signer.publicKey.length - 1) / 2
  return {
    kty, crv, alg,
    x: toBase64Url(signer.publicKey.subarray(1, 1 + n)),
    y: toBase64Url(signer.publicKey.subarray(1 + n)),
    d: toBase64Url(secretKey),
  }
}

export interface InitKeysOptions {
  dir: string
  origin: string
  receiptAlgorithm?: SignatureAlgorithm
}

export interface InitializedKeys {
  files: { log: string, receipt: string, witness: string, peer: string }
  /** Public facts only: the log's vkey (Ed25519, type 0x01) and the witness's (cosignature/v1, type 0x04, as in a trust policy). */
  logVkey: string
  witnessVkey: string
}

/** Generates the four keys into `dir` (created 0700 if missing). Refuses if any key file exists. */
export function initKeys (options: InitKeysOptions): InitializedKeys {
  const { dir, origin, receiptAlgorithm = 'ES256' } = options
  mkdirSync(dir, { recursive: true, mode: 0o700 })
  const files = {
    log: join(dir, KEY_FILES.log),
    receipt: join(dir, KEY_FILES.receipt),
    witness: join(dir, KEY_FILES.witness),
    peer: join(dir, KEY_FILES.peer),
  }
  for (const file of Object.values(files)) {
    if (existsSync(file)) throw new KeyFileError(`refusing to overwrite the existing key file ${file}`)
  }
  const logSkey = formatSkey(origin, nodeSignatures.generateSecretKey('Ed25519'), nodeSignatures)
  const witnessSkey = formatSkey(witnessKeyName(origin), nodeSignatures.generateSecretKey('Ed25519'), nodeSignatures)
  writeSecret(files.log, `${logSkey}\n`)
  writeSecret(files.receipt, `${JSON.stringify(receiptJwk(receiptAlgorithm, nodeSignatures.generateSecretKey(receiptAlgorithm)))}\n`)
  writeSecret(files.witness, `${witnessSkey}\n`)
  writeSecret(files.peer, nodeSignatures.generateSecretKey('Ed25519'))
  syncDirectory(dir)
  return { files, logVkey: vkeyFromSkey(logSkey, nodeSignatures), witnessVkey: witnessVkeyFromSkey(witnessSkey) }
}

/** A skey file's text (one line), checked to be named `name`. */
export function loadSkey (file: string, name: string): string {
  const skey = readKeyFile(file).toString('utf8').trim()
  let parsed
  try {
    parsed = parseSkey(skey, nodeSignatures)
  } catch (err) {
    throw new KeyFileError(`key file ${file} does not hold a valid note signer key (${(err as Error).message})`)
  }
  if (parsed.name !== name) throw new KeyFileError(`key file ${file} is for ${JSON.stringify(parsed.name)}, expected ${JSON.stringify(name)}`)
  return skey
}

export interface ReceiptKey {
  signer: Signer
  /** The public COSE_Key, with kid = its RFC 9679 thumbprint. */
  coseKey: CoseKey & { kid: Uint8Array }
}

/** Loads the receipt key (a private JWK); its kid is the COSE Key Thumbprint. */
export function loadReceiptKey (file: string): ReceiptKey {
  let jwk: Record<string, unknown>
  try {
    jwk = JSON.parse(readKeyFile(file).toString('utf8')) as Record<string, unknown>
  } catch (err) {
    if (err instanceof KeyFileError) throw err
    throw new KeyFileError(`key file ${file} is not a JSON JWK`)
  }
  const entry = Object.entries(JWK_CURVE).find(([, c]) => c.kty === jwk.kty && c.crv === jwk.crv)
  if (entry === undefined || typeof jwk.d !== 'string') throw new KeyFileError(`key file ${file} is not an Ed25519, P-256 or P-384 private JWK`)
  const algorithm = entry[0] as SignatureAlgorithm
  let signer: Signer
  try {
    signer = nodeSignatures.signer(algorithm, fromBase64Url(jwk.d))
  } catch {
    throw new KeyFileError(`key file ${file} holds an invalid ${algorithm} private key`)
  }
  const key: CoseKey = { algorithm, publicKey: signer.publicKey }
  return { signer, coseKey: { ...key, kid: coseKeyThumbprint(key) } }
}

/** The libp2p peer key: a raw 32-byte Ed25519 seed (the peer id is derived from it). */
export function loadPeerSeed (file: string): Uint8Array {
  const seed = readKeyFile(file)
  if (seed.length !== 32) throw new KeyFileError(`key file ${file} must hold a 32-byte Ed25519 seed`)
  return new Uint8Array(seed)
}
