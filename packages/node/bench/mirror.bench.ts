/**
 * Mirror catch-up: a mirror starting from zero fetches an origin's log of ENTRIES entries
 * (statement-sized, 400 bytes) from one peer over libp2p (real TCP, Noise, Yamux; the log-data
 * protocol) and stores it with every signed checkpoint checked against the recomputed root and every
 * receipt seal verified, without re-verifying issuer signatures. The origin runs in its own process
 * (log-data-origin.ts), as another node would; both logs on LevelDB in a temp dir, the mirror's in its
 * sublevel of a node database as in a node.
 * Baseline: the raw LevelDB batch-put rate of the same entry bytes (4096 per batch, no sync, like the
 * mirror's writes), measured in the same run. Two figures: the whole catch-up, and its steady rate past
 * the first quarter (once V8 has compiled the hot paths, as in any long catch-up).
 * Target: at least 50 k entries/s.
 */
import '../src/p2p/polyfill.js'
import { spawn } from 'node:child_process'
import { mkdtemp, rm } from 'node:fs/promises'
import { cpus, loadavg, tmpdir } from 'node:os'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import { multiaddr } from '@multiformats/multiaddr'
import { Level } from 'level'
import { ed25519NoteVerifier, fromHex, originHash, sha256Digest, u64be, utf8 } from '@scitt/core'
import { nodeSignatures, useNodeSha256 } from '@scitt/node-crypto'
import { LEVELDB_OPTIONS, Log } from '@scitt/log'
import { silentLogger } from '../src/logger.js'
import { MAX_LOG_DATA_ANSWER, MAX_LOG_DATA_REQUEST, decodeLogDataAnswer, encodeLogDataRequest } from '../src/federation/log-data.js'
import { Mirror } from '../src/mirror/mirror.js'
import { mirrorDatabase } from '../src/mirror/database.js'
import { createNetwork } from '../src/p2p/network.js'
import { request } from '../src/p2p/protocols.js'
import { benchLogFiles, type Bench } from '../../../scripts/bench-lib.js'
import { benchEntry } from './bench-entry.js'

const ENTRIES = Number(process.env.MIRROR_ENTRIES ?? 200_000)
const ORIGIN = 'origin.bench.example/log'
const PROTOCOL = '/scitt/bench/log-data/1'
const RAW = 'LevelDB batch put, 4096 × 400 B, no sync (raw)'

interface OriginInfo { multiaddr: string, logPublicKey: string, receiptPublicKey: string, checkpoints: number }

export default async function (bench: Bench): Promise<void> {
  useNodeSha256()
  const dir = await mkdtemp(join(tmpdir(), 'scitt-mirror-bench-'))
  const child = spawn(process.execPath, [...process.execArgv, fileURLToPath(new URL('./log-data-origin.ts', import.meta.url)), dir, ORIGIN, String(ENTRIES), PROTOCOL],
    { stdio: ['pipe', 'pipe', 'inherit'] })
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
  const dbs: Array<Level<Uint8Array, Uint8Array>> = []
  const open = async (name: string): Promise<Level<Uint8Array, Uint8Array>> => {
    const db = new Level<Uint8Array, Uint8Array>(join(dir, name), LEVELDB_OPTIONS)
    await db.open()
    dbs.push(db)
    return db
  }
  let network: Awaited<ReturnType<typeof createNetwork>> | undefined
  try {
    const ready = new Promise<OriginInfo>((resolve, reject) => {
      createInterface({ input: child.stdout }).once('line', (line) => resolve(JSON.parse(line) as OriginInfo))
      child.once('exit', (code) => reject(new Error(`the origin process exited (${code}) before serving`)))
    })
    const info = await ready
    // Baseline once the origin has filled its log (nothing else running).
    const raw = await open('raw')
    const values = Array.from({ length: 4096 }, (_, j) => benchEntry(j))
    let written = 0
    await bench.rate(RAW, async () => {
      const ops = values.map((value, j) => ({ type: 'put' as const, key: u64be(written + j), value }))
      written += 4096
      await raw.batch(ops, { sync: false })
    }, { opsPerCall: 4096, minMs: 2000 })
    network = await createNetwork({ peerSeed: sha256Digest(utf8('mirror peer')), listen: ['/ip4/127.0.0.1/tcp/0'], bootstrap: [], scoredTopics: [], heartbeatMs: 1000 })
    const peer = multiaddr(info.multiaddr)
    await network.dial(peer)
    const limits = { maxRequestBytes: MAX_LOG_DATA_REQUEST, maxResponseBytes: MAX_LOG_DATA_ANSWER, timeoutMs: 10_000 }
    const receiptVerifier = nodeSignatures.verifier('ES256', fromHex(info.receiptPublicKey))
    const log = await Log.openMirror({
      // As in a node: the mirrored log in its sublevel of the node's database (node.ts).
      db: mirrorDatabase(await open('node'), `m-${originHash(ORIGIN)}`),
      files: benchLogFiles(),
      origin: ORIGIN,
      verifiers: [ed25519NoteVerifier(ORIGIN, fromHex(info.logPublicKey), nodeSignatures)],
      receiptVerifiers: () => [receiptVerifier],
      sync: false,
    })
    const client = network
    const mirror = new Mirror({
      origin: ORIGIN,
      log,
      source: {
        peers: () => ['origin'],
        fetch: async (_peer, o, resource) => decodeLogDataAnswer(await request(client, peer, PROTOCOL, encodeLogDataRequest(o, resource), limits)),
      },
      logger: silentLogger(),
    })
    // The rate over the whole catch-up, and past its first quarter (V8 has compiled the hot paths by
    // then: the steady rate at which a long catch-up proceeds).
    let warm: { at: number, size: number } | undefined
    const off = log.onCheckpoint((cp) => { if (warm === undefined && cp.size >= ENTRIES / 4) warm = { at: performance.now(), size: cp.size } })
    const started = performance.now()
    mirror.onHead(ENTRIES)
    await mirror.idle()
    const ended = performance.now()
    off()
    if (mirror.size !== ENTRIES || warm === undefined) throw new Error(`the mirror stopped at ${mirror.size} of ${ENTRIES}: ${JSON.stringify(mirror.badPeers())}`)
    const note = `${info.checkpoints} signed checkpoints and seals verified; origin in another process; ${cpus().length} cores, load ${loadavg()[0]!.toFixed(2)}`
    bench.record(`mirror catch-up from zero over libp2p, ${ENTRIES.toLocaleString('en-US')} entries`, ENTRIES / ((ended - started) / 1000), 'entries/s', { baseline: RAW, note })
    bench.record(`  the same past its first ${warm.size.toLocaleString('en-US')} entries (steady rate)`, (ENTRIES - warm.size) / ((ended - warm.at) / 1000), 'entries/s', {
      baseline: RAW,
      target: '≥ 50 000 entries/s',
      note,
    })
    await log.close()
  } finally {
    await Promise.resolve(network?.stop()).catch(() => {})
    child.stdin.end()
    await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 5000))])
    child.kill()
    for (const db of dbs) await db.close().catch(() => {})
    await rm(dir, { recursive: true, force: true })
  }
}
