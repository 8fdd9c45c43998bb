/**
 * The origin of the mirror bench, in its own process (as another node would be): fills a LevelDB log
 * with ENTRIES statement-sized entries (a checkpoint and receipt seal per 256), serves it over the
 * log-data protocol on 127.0.0.1, prints one JSON line (multiaddr, keys), and exits when stdin closes.
 */
import '../src/p2p/polyfill.js'
import { join } from 'node:path'
import { Level } from 'level'
import { ed25519NoteSigner, receiptProtectedHeader, sha256Digest, toHex, utf8 } from '@scitt/core'
import { nodeSignatures, useNodeSha256 } from '@scitt/node-crypto'
import { LEVELDB_OPTIONS, Log } from '@scitt/log'
import { MAX_LOG_DATA_ANSWER, MAX_LOG_DATA_REQUEST, serveLogData } from '../src/federation/log-data.js'
import { createNetwork } from '../src/p2p/network.js'
import { handleRequests } from '../src/p2p/protocols.js'
import { benchEntry } from './bench-entry.js'

const [dir, origin, entries, protocol] = process.argv.slice(2) as [string, string, string, string]
const ENTRIES = Number(entries)

useNodeSha256()
const db = new Level<Uint8Array, Uint8Array>(join(dir, 'origin'), LEVELDB_OPTIONS)
await db.open()
const logSeed = sha256Digest(utf8('mirror bench log key'))
const receiptSigner = nodeSignatures.signer('ES256', nodeSignatures.generateSecretKey('ES256'))
const log = await Log.open({
  db,
  files: { dir: join(dir, 'origin', 'log'), nodesDir: join(dir, 'origin', 'nodes') },
  origin,
  logSigner: ed25519NoteSigner(origin, logSeed, nodeSignatures),
  receiptSigner,
  receiptProtected: receiptProtectedHeader({ alg: 'ES256', kid: utf8('bench'), iss: origin }),
  batchSize: 256,
  batchAgeMs: 1,
  maxPending: 100_000,
  sync: false,
})
for (let i = 0; i < ENTRIES; i += 8192) {
  await Promise.all(Array.from({ length: Math.min(8192, ENTRIES - i) }, (_, j) => log.add(benchEntry(i + j))))
}
const network = await createNetwork({ peerSeed: sha256Digest(utf8('origin peer')), listen: ['/ip4/127.0.0.1/tcp/0'], bootstrap: [], scoredTopics: [], heartbeatMs: 1000 })
await handleRequests(network, protocol, async (body) => serveLogData(body, { log: (o) => (o === origin ? log : undefined), descriptor: () => undefined }),
  { maxRequestBytes: MAX_LOG_DATA_REQUEST, maxResponseBytes: MAX_LOG_DATA_ANSWER, timeoutMs: 10_000 })
process.stdout.write(JSON.stringify({
  multiaddr: network.getMultiaddrs()[0]!.toString(),
  logPublicKey: toHex(nodeSignatures.signer('Ed25519', logSeed).publicKey),
  receiptPublicKey: toHex(receiptSigner.publicKey),
  checkpoints: (await log.checkpointsAfter(0, 1_000_000)).length,
}) + '\n')
process.stdin.resume()
process.stdin.on('end', () => {
  void (async () => {
    await network.stop()
    await log.close()
    await db.close()
    process.exit(0)
  })()
})
