/**
 * A mirror against the peers it fetches from, with real LevelDB logs and the log-data
 * protocol's own encoder and parser between them (the libp2p transport is covered by mirror.test.ts):
 * peers that serve corrupted bundles, forged or reordered checkpoints, or garbage are detected and
 * avoided, nothing of their answers is stored, an honest peer completes the work, and catch-up is
 * chunked and resumes after an interruption.
 */
import assert from 'node:assert/strict'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Level } from 'level'
import {
  ScittError, concatBytes, ed25519NoteSigner, encodeEntryBundle, ed25519NoteVerifier, equalBytes, parseEntryBundles, receiptProtectedHeader, sha256Digest, utf8,
} from '@scitt/core'
import { nodeSignatures } from '@scitt/node-crypto'
import { Log, type LogDatabase } from '@scitt/log'
import { silentLogger } from '../src/logger.js'
import { decodeLogDataAnswer, encodeLogDataRequest, serveLogData } from '../src/federation/log-data.js'
import { Mirror, type MirrorSource } from '../src/mirror/mirror.js'

const ORIGIN = 'origin.example/log'
const logSeed = sha256Digest(utf8('mirror-peers log key'))
const receiptSeed = nodeSignatures.generateSecretKey('ES256')
const receiptSigner = nodeSignatures.signer('ES256', receiptSeed)
const receiptVerifier = nodeSignatures.verifier('ES256', receiptSigner.publicKey)
const noteVerifier = ed25519NoteVerifier(ORIGIN, nodeSignatures.signer('Ed25519', logSeed).publicKey, nodeSignatures)

type Tamper = (resource: string, body: Uint8Array) => Uint8Array

describe('a mirror and the peers it fetches from', function () {
  this.timeout(30_000)
  let dir: string
  let dbs: Array<Level<Uint8Array, Uint8Array>> = []
  let origin: Log
  const SIZE = 700

  const open = async (name: string): Promise<LogDatabase> => {
    const db = new Level<Uint8Array, Uint8Array>(join(dir, name), { keyEncoding: 'view', valueEncoding: 'view' })
    await db.open()
    dbs.push(db)
    return db
  }
  const mirrorLog = async (name: string): Promise<Log> => Log.openMirror({ db: await open(name), files: { dir: join(dir, name, 'log'), nodesDir: join(dir, name, 'nodes') }, origin: ORIGIN, verifiers: [noteVerifier], receiptVerifiers: () => [receiptVerifier], sync: false })

  /** A peer answering from the origin's log through the protocol's encoder, then `tamper`. */
  const peer = (tamper?: Tamper) => async (resource: string): Promise<Uint8Array> => {
    const answer = decodeLogDataAnswer(await serveLogData(encodeLogDataRequest(ORIGIN, resource), { log: (o) => (o === ORIGIN ? origin : undefined), descriptor: () => undefined }))
    return tamper === undefined ? answer : tamper(resource, answer)
  }
  const source = (peers: Record<string, (resource: string) => Promise<Uint8Array>>): MirrorSource => ({
    peers: () => Object.keys(peers),
    fetch: async (id, o, resource) => {
      assert.equal(o, ORIGIN)
      return peers[id]!(resource)
    },
  })

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'scitt-mirror-peers-'))
    origin = await Log.open({
      db: await open('origin'),
      files: { dir: join(dir, 'origin', 'log'), nodesDir: join(dir, 'origin', 'nodes') },
      origin: ORIGIN,
      logSigner: ed25519NoteSigner(ORIGIN, logSeed, nodeSignatures),
      receiptSigner,
      receiptProtected: receiptProtectedHeader({ alg: 'ES256', kid: utf8('receipt key'), iss: ORIGIN }),
      batchSize: 64,
      batchAgeMs: 1,
      sync: false,
    })
    for (let i = 0; i < SIZE; i += 100) await Promise.all(Array.from({ length: 100 }, (_, j) => origin.add(utf8(`entry ${i + j}`))))
  })

  after(async () => {
    await origin?.close()
    for (const db of dbs) await db.close()
    dbs = []
    await rm(dir, { recursive: true, force: true })
  })

  async function assertSameAsOrigin (log: Log): Promise<void> {
    assert.equal(log.latestCheckpoint()!.size, SIZE)
    assert.ok(equalBytes(log.latestCheckpoint()!.rootHash, origin.latestCheckpoint()!.rootHash))
    assert.deepEqual((await log.fsck({ receiptVerifiers: [receiptVerifier] })).errors, [])
    for (const index of [0, 255, 256, 699]) assert.deepEqual(await log.receipt(index), await origin.receipt(index))
  }

  /** Bundle 1 comes alone (`tile/entries/001…`) or last in a run of full bundles (`entry-bundles/0/2`…). */
  const holdsBundle1 = (resource: string): boolean => resource.startsWith('tile/entries/001') || /^entry-bundles\/(0\/([2-9]|\d\d)|1\/)/.test(resource)
  const flipInBundle: Tamper = (resource, body) => {
    if (!holdsBundle1(resource)) return body
    const copy = body.slice()
    copy[copy.length - 1]! ^= 1
    return copy
  }
  const liars: Record<string, Tamper> = {
    'a flipped byte in an entry bundle': flipInBundle,
    'a bundle cut short': (resource, body) => (/^(tile\/entries|entry-bundles)\//.test(resource) ? body.subarray(0, body.length - 3) : body),
    'a run of full bundles without its last entry': (resource, body) => {
      if (!resource.startsWith('entry-bundles/')) return body
      // Each entry re-encoded alone is its length prefix and bytes: the run minus its last entry.
      return concatBytes(...parseEntryBundles(body, 64).flat().slice(0, -1).map((e) => encodeEntryBundle([e])))
    },
    'more full bundles than asked for': (resource, body) => (resource.startsWith('entry-bundles/') ? concatBytes(body, body) : body),
    'checkpoints in the wrong order': (resource, body) => {
      if (!resource.startsWith('checkpoints/')) return body
      const view = new DataView(body.buffer, body.byteOffset)
      const first = 4 + view.getUint32(0)
      const second = first + 4 + view.getUint32(first)
      return Uint8Array.from([...body.subarray(first, second), ...body.subarray(0, first), ...body.subarray(second)])
    },
    'a checkpoint whose signature was changed': (resource, body) => {
      if (!resource.startsWith('checkpoints/')) return body
      const text = new TextDecoder().decode(body)
      return utf8(text.replace(/— origin\.example\/log (\S)/, (_m, c: string) => `— origin.example/log ${c === 'A' ? 'B' : 'A'}`))
    },
    'garbage': () => utf8('garbage'),
  }

  for (const [what, tamper] of Object.entries(liars)) {
    it(`stores nothing from a peer that serves ${what}, records it, and completes from an honest peer`, async () => {
      const log = await mirrorLog(`m-${what.replace(/\W+/g, '-')}`)
      const onlyLiar = new Mirror({ origin: ORIGIN, log, source: source({ liar: peer(tamper) }), logger: silentLogger(), chunkEntries: 1024 })
      onlyLiar.onHead(SIZE)
      await onlyLiar.idle()
      assert.equal(log.latestCheckpoint(), undefined, 'nothing of the liar\'s answer is stored')
      assert.deepEqual(onlyLiar.badPeers().map((b) => b.peer), ['liar'])
      assert.match(onlyLiar.badPeers()[0]!.error, /^(MALFORMED|BAD_PROOF|BAD_SIGNATURE|CONFLICT|TOO_LARGE)/)
      const both = new Mirror({ origin: ORIGIN, log, source: source({ liar: peer(tamper), honest: peer() }), logger: silentLogger() })
      both.onHead(SIZE)
      await both.idle()
      await assertSameAsOrigin(log)
      assert.deepEqual(both.badPeers().map((b) => b.peer), ['liar'])
    })
  }

  it('a liar after good chunks: the good ones stay, the bad one is not stored', async () => {
    const log = await mirrorLog('m-late-liar')
    const mirror = new Mirror({ origin: ORIGIN, log, source: source({ liar: peer(flipInBundle) }), logger: silentLogger(), chunkEntries: 200 })
    mirror.onHead(SIZE)
    await mirror.idle()
    const size = log.latestCheckpoint()!.size
    assert.ok(size > 0 && size <= 256, `stopped before bundle 1 (at ${size})`)
    assert.ok(equalBytes(log.latestCheckpoint()!.rootHash, (await origin.checkpointAt(size)).rootHash))
    assert.deepEqual((await log.fsck()).errors, [])
  })

  it('catches up in bounded chunks and resumes after an interruption (a new mirror on the same data)', async () => {
    const log = await mirrorLog('m-resume')
    let fetches = 0
    const flaky = async (resource: string): Promise<Uint8Array> => {
      if (++fetches > 6) throw new ScittError('NOT_FOUND', 'peer went away')
      return peer()(resource)
    }
    const first = new Mirror({ origin: ORIGIN, log, source: source({ flaky }), logger: silentLogger(), chunkEntries: 100, concurrency: 1 })
    first.onHead(SIZE)
    await first.idle()
    const stopped = log.latestCheckpoint()!.size
    assert.ok(stopped > 0 && stopped < SIZE, `interrupted part way (at ${stopped})`)
    assert.deepEqual(first.badPeers(), [], 'a peer that went away is not a liar')
    const again = new Mirror({ origin: ORIGIN, log, source: source({ honest: peer() }), logger: silentLogger(), chunkEntries: 100 })
    again.onHead(SIZE)
    await again.idle()
    await assertSameAsOrigin(log)
  })
})
