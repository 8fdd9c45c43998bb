/**
 * scitt-node end to end: registrations/s over HTTP with pre-signed Ed25519 statements and many
 * connections (a load generator in a child process), against the raw single-core node:crypto Ed25519
 * verify rate measured in the same run; then POST → receipt latency at half that load.
 * Targets (issue #4): throughput ≥ 50 % of the verify baseline; at half load p50 ≤ 250 ms, p99 ≤ 1 s.
 */
import { spawn } from 'node:child_process'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { readFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { buildStatement, coseKeyThumbprint, encodeSign1, sha256Digest, toBase64Url, utf8 } from '@scitt/core'
import { nodeSignatures } from '@scitt/node-crypto'
import { ScittNode, initNode, loadConfig } from '@scitt/node'
import type { Bench } from '../../../scripts/bench-lib.js'
import { useNodeSha256 } from '@scitt/node-crypto'

const CLIENT = fileURLToPath(new URL('./load-client.mjs', import.meta.url))

interface LoadResult { statuses: Record<string, number>, elapsedMs: number, latenciesMs: number[] }

function load (url: string, file: string, args: string[]): Promise<LoadResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLIENT, url, file, ...args], { stdio: ['ignore', 'pipe', 'inherit'] })
    let out = ''
    child.stdout.on('data', (c: Buffer) => { out += c.toString() })
    child.on('error', reject)
    child.on('close', (code) => code === 0 ? resolve(JSON.parse(out) as LoadResult) : reject(new Error(`load client exited with ${code}`)))
  })
}

function percentile (sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN
}

async function statements (file: string, count: number, tag: string): Promise<void> {
  const signer = nodeSignatures.signer('Ed25519', sha256Digest(utf8('bench issuer')))
  const kid = coseKeyThumbprint({ algorithm: 'Ed25519', publicKey: signer.publicKey })
  const parts: Buffer[] = []
  for (let i = 0; i < count; i++) {
    const bytes = encodeSign1(buildStatement({
      signer, kid, iss: 'bench.example', sub: `pkg:bench/${tag}/${i}`, contentType: 'application/json',
      payload: utf8(`{"artifact":"sha256:${i}","run":"${tag}","t":${Date.now()}}`),
    }))
    const len = Buffer.alloc(4)
    len.writeUInt32BE(bytes.length)
    parts.push(len, Buffer.from(bytes))
  }
  await writeFile(file, Buffer.concat(parts))
}

export default async function (bench: Bench): Promise<void> {
  useNodeSha256() // a Node process: core hashes with node:crypto
  // Baseline: raw node:crypto Ed25519 verify on one core, cached KeyObject.
  const signer = nodeSignatures.signer('Ed25519', sha256Digest(utf8('bench baseline')))
  const verifier = nodeSignatures.verifier('Ed25519', signer.publicKey)
  const message = new Uint8Array(300).fill(7)
  const signature = signer.sign(message)
  const baseline = bench.rateSync('ed25519 verify, node:crypto, 1 core', () => verifier.verify(message, signature))

  const dir = await mkdtemp(join(tmpdir(), 'scitt-node-bench-'))
  try {
    const init = initNode({ dir, origin: 'bench.example/log', port: 0 })
    const raw = JSON.parse(readFileSync(init.config, 'utf8'))
    const issuerKey = nodeSignatures.signer('Ed25519', sha256Digest(utf8('bench issuer'))).publicKey
    raw.registration.issuers = [{ iss: 'bench.example', keys: [{ jwk: { kty: 'OKP', crv: 'Ed25519', x: toBase64Url(issuerKey) } }] }]
    raw.limits.rateLimit = null
    raw.limits.verifyQueue = 100_000
    raw.limits.registrationWaitMs = 5000
    raw.log.maxPending = 100_000
    raw.log.batchAgeMs = 20
    await writeFile(init.config, JSON.stringify(raw))
    const node = await ScittNode.start({ config: loadConfig(init.config) })
    try {
      const total = 20_000
      const closedFile = join(dir, 'closed.bin')
      await statements(closedFile, total, 'closed')
      const closed = await load(node.url, closedFile, ['closed', '512'])
      const created = closed.statuses['201'] ?? 0
      const rate = created / (closed.elapsedMs / 1000)
      bench.record('registrations over HTTP (512 connections, 201)', rate, 'ops/s', {
        baseline: 'ed25519 verify, node:crypto, 1 core', target: '≥ 0.5×',
        note: `${created}/${total} 201, statuses ${JSON.stringify(closed.statuses)}, ${node.config.limits.verifyWorkers || 'all'} cores`,
      })

      const half = Math.max(1, Math.round(rate / 2))
      const seconds = 4
      const openFile = join(dir, 'open.bin')
      await statements(openFile, Math.ceil(half * seconds * 1.1), 'open')
      const open = await load(node.url, openFile, ['open', String(half), String(seconds * 1000)])
      const sorted = [...open.latenciesMs].sort((x, y) => x - y)
      const note = `at ${half}/s for ${seconds} s, statuses ${JSON.stringify(open.statuses)}`
      bench.record('POST → receipt latency p50 at half load', percentile(sorted, 50), 'ms', { target: '≤ 250 ms', note })
      bench.record('POST → receipt latency p99 at half load', percentile(sorted, 99), 'ms', { target: '≤ 1000 ms', note })
      void baseline
    } finally {
      await node.stop()
    }
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
}
