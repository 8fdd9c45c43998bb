/**
 * Test helpers: a node directory from `initNode` in a mkdtemp dir, a node started in-process on
 * 127.0.0.1 port 0, issuer keys and statements, and a raw HTTP client (node:http, no redirects, no
 * decompression) so that tests see exactly what the server sent.
 */
import { request } from 'node:http'
import { mkdtemp, rm } from 'node:fs/promises'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import {
  buildStatement, coseKeyThumbprint, encodeSign1, decodeProblemDetails, ed25519NoteVerifier, parseSkey, toBase64Url,
  type NoteVerifier, type ProblemDetails, type SignatureAlgorithm, type Signer,
} from '@scitt/core'
import { nodeSignatures } from '@scitt/node-crypto'
import { ScittNode, initNode, loadConfig, type NodeConfig } from '@scitt/node'
import type { LogFiles } from '@scitt/log'

export const ORIGIN = 'example.com/node-test'

export interface Issuer {
  iss: string
  signer: Signer
  kid: Uint8Array
  jwk: Record<string, string>
}

export function makeIssuer (iss: string, algorithm: SignatureAlgorithm = 'Ed25519'): Issuer {
  const signer = nodeSignatures.signer(algorithm, nodeSignatures.generateSecretKey(algorithm))
  const pk = signer.publicKey
  const jwk: Record<string, string> = algorithm === 'Ed25519'
    ? { kty: 'OKP', crv: 'Ed25519', x: toBase64Url(pk) }
    : { kty: 'EC', crv: algorithm === 'ES256' ? 'P-256' : 'P-384', x: toBase64Url(pk.subarray(1, 1 + (pk.length - 1) / 2)), y: toBase64Url(pk.subarray(1 + (pk.length - 1) / 2)) }
  return { iss, signer, kid: coseKeyThumbprint({ algorithm, publicKey: pk }), jwk }
}

let counter = 0
/** A fresh signed statement (unique payload unless given). */
export function statement (issuer: Issuer, options: { payload?: Uint8Array, contentType?: string, kid?: Uint8Array, iss?: string } = {}): Uint8Array {
  const payload = options.payload ?? new TextEncoder().encode(`{"n":${counter++},"t":${Date.now()}}`)
  const sign1 = buildStatement({
    signer: issuer.signer,
    kid: options.kid ?? issuer.kid,
    iss: options.iss ?? issuer.iss,
    sub: 'pkg:example/firmware@1.0',
    contentType: options.contentType ?? 'application/json',
    payload,
  })
  return encodeSign1(sign1)
}

export interface TestNode {
  dir: string
  config: NodeConfig
  node: ScittNode
  url: string
  logVerifier: NoteVerifier
  stop: () => Promise<void>
}

/** Creates a node directory, patches its config and starts the node. `stop` closes it and removes the dir. */
export async function startTestNode (patch: (config: Record<string, any>) => void): Promise<TestNode> {
  const dir = await mkdtemp(join(tmpdir(), 'scitt-node-test-'))
  try {
    const { writeFileSync } = await import('node:fs')
    const result = initNode({ dir, origin: ORIGIN, port: 0 })
    const raw = JSON.parse(readFileSync(result.config, 'utf8'))
    raw.log.batchAgeMs = 10
    raw.log.sync = false
    raw.limits.verifyWorkers = 1
    raw.limits.rateLimit = null
    raw.limits.addCheckpoint = { rateLimit: null, maxInFlightPerClient: 16 } // tests send witness requests faster than a log would
    patch(raw)
    writeFileSync(result.config, JSON.stringify(raw))
    const config = loadConfig(result.config)
    const node = await ScittNode.start({ config })
    const { seed } = parseSkey(readFileSync(join(dir, 'log.key'), 'utf8').trim(), nodeSignatures)
    const logVerifier = ed25519NoteVerifier(ORIGIN, nodeSignatures.signer('Ed25519', seed).publicKey, nodeSignatures)
    return {
      dir, config, node, url: node.url, logVerifier,
      stop: async () => {
        await node.stop()
        await rm(dir, { recursive: true, force: true })
      },
    }
  } catch (err) {
    await rm(dir, { recursive: true, force: true })
    throw err
  }
}

export interface RawResponse {
  status: number
  headers: Record<string, string | string[] | undefined>
  body: Buffer
}

export function http (url: string, options: { method?: string, headers?: Record<string, string>, body?: Uint8Array | string } = {}): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: options.method ?? 'GET', headers: options.headers ?? {} }, (res) => {
      const chunks: Buffer[] = []
      res.on('data', (c: Buffer) => chunks.push(c))
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks) }))
      res.on('error', reject)
    })
    req.on('error', reject)
    req.end(options.body === undefined ? undefined : options.body)
  })
}

export function post (base: string, body: Uint8Array | string, contentType = 'application/cose'): Promise<RawResponse> {
  return http(`${base}/entries`, { method: 'POST', headers: { 'content-type': contentType }, body })
}

/** The problem details of an error response (checks the media type). */
export function problem (res: RawResponse): ProblemDetails {
  if (res.headers['content-type'] !== 'application/concise-problem-details+cbor') throw new Error(`not problem details: ${res.status} ${String(res.headers['content-type'])}`)
  return decodeProblemDetails(new Uint8Array(res.body))
}

export function bytes (res: RawResponse): Uint8Array {
  return new Uint8Array(res.body.buffer, res.body.byteOffset, res.body.length)
}

/** Runs `tasks` with at most `n` in flight. */
export async function pool<T> (n: number, tasks: Array<() => Promise<T>>): Promise<T[]> {
  const out: T[] = new Array(tasks.length)
  let next = 0
  await Promise.all(Array.from({ length: n }, async () => {
    while (next < tasks.length) {
      const i = next++
      out[i] = await tasks[i]!()
    }
  }))
  return out
}

/** Files for a log a test opens by itself: under one temporary directory, removed when the process exits. */
let logFilesRoot: string | undefined
let logFilesMade = 0
export function tempLogFiles (): LogFiles {
  if (logFilesRoot === undefined) {
    const root = mkdtempSync(join(tmpdir(), 'scitt-node-test-files-'))
    process.once('exit', () => { rmSync(root, { recursive: true, force: true }) })
    logFilesRoot = root
  }
  const dir = join(logFilesRoot, String(logFilesMade++))
  return { dir: join(dir, 'log'), nodesDir: join(dir, 'nodes') }
}
