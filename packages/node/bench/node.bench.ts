/**
 * scitt-node end to end: registrations/s over HTTP with pre-signed Ed25519 statements and 512
 * connections (a load generator in a child process, see load-client.mjs), against the raw single-core
 * node:crypto Ed25519 verify rate measured in the same run (before and after the registration run; the
 * higher is the baseline); then POST → receipt latency at half that load (open loop). The node runs
 * with its default config but for the limits a load test must lift (rate limit, queues), and is
 * measured warm: a first run of as many registrations brings its code to the optimizing compiler, as
 * in a node that has been up for a while (that first run's rate is in the note).
 * Two servers driven by the same client give what this machine allows: bare node:http (the HTTP
 * floor), and node:http with the node's verify pool and nothing else (the ceiling of the design
 * without its log). The notes say how the run was set up and how busy the machine was.
 * Targets: throughput ≥ 50 % of the verify baseline; at half load p50 ≤ 250 ms, p99 ≤ 1 s.
 */
import { spawn } from 'node:child_process'
import { createServer } from 'node:http'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { readFileSync } from 'node:fs'
import { cpus, loadavg, tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { buildStatement, coseKeyThumbprint, encodeSign1, sha256Digest, toBase64Url, utf8 } from '@scitt/core'
import { nodeSignatures } from '@scitt/node-crypto'
import { ScittNode, VerifyPool, initNode, loadConfig } from '@scitt/node'
import { percentile, type Bench } from '../../../scripts/bench-lib.js'
import { useNodeSha256 } from '@scitt/node-crypto'

const CLIENT = fileURLToPath(new URL('./load-client.mjs', import.meta.url))

interface LoadResult { statuses: Record<string, number>, elapsedMs: number, latenciesMs: number[], cpuMs: number, connections: number }

function load (url: string, file: string, args: string[]): Promise<LoadResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLIENT, url, file, ...args], { stdio: ['ignore', 'pipe', 'inherit'] })
    let out = ''
    child.stdout.on('data', (c: Buffer) => { out += c.toString() })
    child.on('error', reject)
    child.on('close', (code) => code === 0 ? resolve(JSON.parse(out) as LoadResult) : reject(new Error(`load client exited with ${code}`)))
  })
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

/**
 * A node:http server in this process, driven by the same load client with the same file, that reads
 * each body, runs `work` on it (nothing for the HTTP floor) and answers 201 with 600 bytes (a
 * receipt's size).
 */
async function plainServer (file: string, work?: (body: Uint8Array) => Promise<unknown>): Promise<{ result: LoadResult, serverUs: number }> {
  const receipt = new Uint8Array(600).fill(7)
  const server = createServer((req, res) => {
    const answer = (): void => { res.writeHead(201, { 'Content-Type': 'application/cose', 'Content-Length': receipt.length }).end(receipt) }
    const chunks: Buffer[] = []
    req.on('data', (chunk: Buffer) => { if (work !== undefined) chunks.push(chunk) })
    req.on('end', () => {
      if (work === undefined) answer()
      else work(Buffer.concat(chunks)).then(answer, () => res.writeHead(400).end())
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  try {
    const { port } = server.address() as { port: number }
    const cpu = process.cpuUsage()
    const result = await load(`http://127.0.0.1:${port}`, file, ['closed', '512'])
    const used = process.cpuUsage(cpu)
    return { result, serverUs: (used.user + used.system) / (result.statuses['201'] ?? 1) }
  } finally {
    server.closeAllConnections()
    await new Promise((resolve) => server.close(resolve))
  }
}

export default async function (bench: Bench): Promise<void> {
  const loadBefore = loadavg()[0]!.toFixed(2) // the machine may be shared: say how busy it was
  useNodeSha256() // a Node process: core hashes with node:crypto
  // Baseline: raw node:crypto Ed25519 verify on one core, cached KeyObject.
  const signer = nodeSignatures.signer('Ed25519', sha256Digest(utf8('bench baseline')))
  const verifier = nodeSignatures.verifier('Ed25519', signer.publicKey)
  const message = new Uint8Array(300).fill(7)
  const signature = signer.sign(message)
  // Measured before and after the registration run; the higher rate is the baseline (the harder
  // target), so that a busy moment during the baseline cannot flatter the ratio.
  const verifyRate = (): number => {
    verifier.verify(message, signature)
    let calls = 0
    const start = performance.now()
    while (performance.now() - start < 1500) {
      for (let i = 0; i < 16; i++) verifier.verify(message, signature)
      calls += 16
    }
    return calls / ((performance.now() - start) / 1000)
  }
  const verifyBefore = verifyRate()

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
    await writeFile(init.config, JSON.stringify(raw))
    const node = await ScittNode.start({ config: loadConfig(init.config) })
    try {
      const total = 20_000
      const closedFile = join(dir, 'closed.bin')
      await statements(closedFile, total, 'closed')
      const bare = await plainServer(closedFile)
      const bareCount = bare.result.statuses['201'] ?? 0
      bench.record('bare node:http POST → 201 (no work, 512 connections)', bareCount / (bare.result.elapsedMs / 1000), 'ops/s', {
        note: `the HTTP floor with the same load client and statements: ${bareCount}/${total} 201, ${bare.serverUs.toFixed(0)} µs CPU per request in the server, ` +
          `${((bare.result.cpuMs * 1000) / total).toFixed(0)} µs in the client`,
      })
      const pool = new VerifyPool({ registration: node.config.registration, threads: node.config.limits.verifyWorkers, maxQueue: 100_000 })
      let ceiling: Awaited<ReturnType<typeof plainServer>>
      try {
        await pool.ready()
        ceiling = await plainServer(closedFile, async (body) => pool.check(body))
      } finally {
        await pool.close()
      }
      const ceilingCount = ceiling.result.statuses['201'] ?? 0
      bench.record('node:http + verify pool, no log (512 connections)', ceilingCount / (ceiling.result.elapsedMs / 1000), 'ops/s', {
        note: `the ceiling of the design here: each statement checked on a verify pool like the node's (${pool.size} workers), then 201; ` +
          `${ceilingCount}/${total} 201, ${ceiling.serverUs.toFixed(0)} µs CPU per request in the server (all threads), ${((ceiling.result.cpuMs * 1000) / total).toFixed(0)} µs in the client`,
      })
      const warmFile = join(dir, 'warm.bin')
      await statements(warmFile, total, 'warm')
      const warm = await load(node.url, warmFile, ['closed', '512'])
      const warmRate = (warm.statuses['201'] ?? 0) / (warm.elapsedMs / 1000)
      const elu = performance.eventLoopUtilization()
      const cpu = process.cpuUsage()
      const closed = await load(node.url, closedFile, ['closed', '512'])
      const mainBusy = performance.eventLoopUtilization(elu).utilization
      const used = process.cpuUsage(cpu)
      const serverUs = (used.user + used.system) / total
      const verifyAfter = verifyRate()
      bench.record('ed25519 verify, node:crypto, 1 core', Math.max(verifyBefore, verifyAfter), 'ops/s', {
        note: `the higher of ${Math.round(verifyBefore)}/s before and ${Math.round(verifyAfter)}/s after the registration run`,
      })
      const created = closed.statuses['201'] ?? 0
      const rate = created / (closed.elapsedMs / 1000)
      bench.record('registrations over HTTP (512 connections, 201)', rate, 'ops/s', {
        baseline: 'ed25519 verify, node:crypto, 1 core', target: '≥ 0.5×',
        note: `${created}/${total} 201, statuses ${JSON.stringify(closed.statuses)}; node in this process with ${node.config.limits.verifyWorkers || cpus().length} verify workers ` +
          `on ${cpus().length} cores, its event loop ${(mainBusy * 100).toFixed(0)} % busy, ` +
          `${serverUs.toFixed(0)} µs CPU per registration (all its threads: HTTP, workers, GC, LevelDB); load client in a child process on the same cores ` +
          `(node:net keep-alive, one request in flight per connection, ${((closed.cpuMs * 1000) / total).toFixed(0)} µs CPU per request); ` +
          `log defaults (batches of ${node.config.log.batchSize} or ${node.config.log.batchAgeMs} ms, sync writes); measured warm, after a first run of ${total} at ${Math.round(warmRate)}/s; ` +
          `load average before ${loadBefore}`,
      })

      const half = Math.max(1, Math.round(rate / 2))
      const seconds = 4
      const openFile = join(dir, 'open.bin')
      await statements(openFile, Math.ceil(half * seconds * 1.1), 'open')
      const loadOpen = loadavg()[0]!.toFixed(2)
      const open = await load(node.url, openFile, ['open', String(half), String(seconds * 1000)])
      const sorted = [...open.latenciesMs].sort((x, y) => x - y)
      const note = `open loop at ${half}/s for ${seconds} s (latency from when each request was due) on ${open.connections} connections, statuses ${JSON.stringify(open.statuses)}; load average before ${loadOpen}`
      bench.record('POST → receipt latency p50 at half load', percentile(sorted, 50), 'ms', { target: '≤ 250 ms', note })
      bench.record('POST → receipt latency p99 at half load', percentile(sorted, 99), 'ms', { target: '≤ 1000 ms', note })
    } finally {
      await node.stop()
    }
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
}
