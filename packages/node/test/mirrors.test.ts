/**
 * Mirrors with fakes at the federation edge (no libp2p): the origin is a real Log served through the
 * log-data protocol's own encoder; peers may tamper with its answers. A mirror keeps only the signature
 * lines of the origin's log keys, refuses checkpoints without their receipt seals (storing nothing),
 * accepts any log key the policy lists, and follows a receipt-key change announced in a newer signed
 * descriptor, while an older descriptor changes nothing.
 */
import assert from 'node:assert/strict'
import { MemoryLevel } from 'memory-level'
import {
  ed25519NoteSigner, encodeCoseKey, formatNote, fromUtf8, formatVkey, parseNote, receiptProtectedHeader, sha256Digest, signNote,
  toBase64Url, utf8, verifyReceipt, NOTE_KEY_TYPE_ED25519, type NoteSigner, type Signer, type Verifier,
} from '@scitt/core'
import { nodeSignatures } from '@scitt/node-crypto'
import { Log } from '@scitt/log'
import { parseDescriptorText, signDescriptor } from '../src/federation/descriptor.js'
import { decodeCheckpointList, decodeLogDataAnswer, encodeCheckpointList, encodeLogDataRequest, serveLogData } from '../src/federation/log-data.js'
import type { FederationEvent } from '../src/federation/federation.js'
import { TrustPolicy } from '../src/federation/trust.js'
import { HeldLogs } from '../src/held-logs.js'
import { silentLogger } from '../src/logger.js'
import { Mirrors, type MirrorFederation } from '../src/mirror/mirrors.js'
import { keptReceiptKeys } from '../src/mirror/receipt-keys.js'
import { STORE_KEYS } from '../src/store-layout.js'
import { tempLogFiles } from './helpers.js'

const ORIGIN = 'origin.example/log'
const seed = (s: string): Uint8Array => sha256Digest(utf8(s))
const memory = (): MemoryLevel<Uint8Array, Uint8Array> => new MemoryLevel<Uint8Array, Uint8Array>({ keyEncoding: 'view', valueEncoding: 'view' })

interface LogKey { signer: NoteSigner, vkey: string }
function logKey (name: string): LogKey {
  return {
    signer: ed25519NoteSigner(ORIGIN, seed(name), nodeSignatures),
    vkey: formatVkey(ORIGIN, NOTE_KEY_TYPE_ED25519, nodeSignatures.signer('Ed25519', seed(name)).publicKey),
  }
}

interface ReceiptKey { signer: Signer, verifier: Verifier, encoded: string, protectedHeader: Uint8Array }
function receiptKey (name: string): ReceiptKey {
  const signer = nodeSignatures.signer('ES256', nodeSignatures.generateSecretKey('ES256'))
  return {
    signer,
    verifier: nodeSignatures.verifier('ES256', signer.publicKey),
    encoded: toBase64Url(encodeCoseKey({ algorithm: 'ES256', publicKey: signer.publicKey })),
    protectedHeader: receiptProtectedHeader({ alg: 'ES256', kid: utf8(name), iss: 'https://origin.example' }),
  }
}

function descriptor (key: LogKey, receipt: ReceiptKey, time: number): Uint8Array {
  return utf8(signDescriptor({ origin: ORIGIN, peer: 'origin-peer', addrs: [], receiptKey: receipt.encoded, roles: ['log'], time }, key.signer))
}

/** A peer's answer: the origin's log through the log-data protocol, then what the peer does to it. */
type Peer = (resource: string, body: Uint8Array) => Uint8Array
const honest: Peer = (_resource, body) => body
/** Drops every receipt seal from the checkpoints it lists. */
const stripper: Peer = (resource, body) => resource.startsWith('checkpoints/')
  ? encodeCheckpointList(decodeCheckpointList(body).map((cp) => ({ note: cp.note, seal: undefined })))
  : body
const junkKey = ed25519NoteSigner('junk.example/key', seed('junk'), nodeSignatures)
/** Adds a signature line of a key no policy names to every checkpoint it lists. */
const junker: Peer = (resource, body) => resource.startsWith('checkpoints/')
  ? encodeCheckpointList(decodeCheckpointList(body).map((cp) => {
    const note = parseNote(cp.note)
    return { note: formatNote({ text: note.text, signatures: [...note.signatures, ...signNote(note.text, [junkKey]).signatures] }), seal: cp.seal }
  }))
  : body

class Origin {
  readonly db = memory()
  readonly files = tempLogFiles()
  log!: Log

  async open (key: LogKey, receipt: ReceiptKey): Promise<void> {
    this.log = await Log.open({
      db: this.db, files: this.files, origin: ORIGIN, logSigner: key.signer, receiptSigner: receipt.signer,
      receiptProtected: receipt.protectedHeader, batchSize: 1024, batchAgeMs: 5, sync: false,
    })
  }

  async add (tag: string, n: number): Promise<void> {
    await Promise.all(Array.from({ length: n }, async (_, i) => this.log.add(utf8(`${tag} ${i}`))))
  }

  async serve (resource: string): Promise<Uint8Array> {
    const answer = await serveLogData(encodeLogDataRequest(ORIGIN, resource), { log: () => this.log, descriptor: () => undefined })
    return decodeLogDataAnswer(answer)
  }
}

/** Mirrors started over a fake federation: `peers` are asked in order; `announce` emits a descriptor event. */
class Harness {
  readonly store = new MemoryLevel<string, Uint8Array>({ keyEncoding: 'utf8', valueEncoding: 'view' })
  readonly db = memory()
  readonly files = tempLogFiles()
  readonly held = new HeldLogs(['own.example/log', ORIGIN])
  readonly listeners = new Set<(event: FederationEvent) => void>()
  peers: Record<string, Peer> = { origin: honest }
  mirrors!: Mirrors

  constructor (readonly origin: Origin, readonly policy: string, public signed: Uint8Array) {}

  async start (): Promise<void> {
    const federation: MirrorFederation = {
      directory: { peersFor: () => Object.keys(this.peers), httpUrlOf: () => undefined, signedDescriptorOf: () => this.signed },
      logData: async (peer, origin, resource) => {
        assert.equal(origin, ORIGIN)
        return this.peers[peer]!(resource, await this.origin.serve(resource))
      },
      heads: { latest: () => undefined },
      evidence: { against: () => undefined },
      on: (listener) => { this.listeners.add(listener); return () => this.listeners.delete(listener) },
    }
    this.mirrors = await Mirrors.start({
      origins: [ORIGIN],
      federation,
      trust: TrustPolicy.parse(this.policy),
      held: this.held,
      database: (name) => this.db.sublevel<Uint8Array, Uint8Array>(name, { keyEncoding: 'view', valueEncoding: 'view' }),
      files: () => this.files,
      store: this.store,
      logger: silentLogger(),
      retryMs: 60_000,
      timeoutMs: 5000,
    })
  }

  announce (signed: Uint8Array): void {
    this.signed = signed
    const [text] = new TextDecoder().decode(signed).split('\n\n')
    const event: FederationEvent = { type: 'descriptor', descriptor: parseDescriptorText(`${text!}\n`), signed }
    for (const l of this.listeners) l(event)
  }

  /** One catch-up round, to its end; the mirror's size after it. */
  async sync (): Promise<number> {
    const m = await this.opened()
    m.sync()
    await m.idle()
    return m.size
  }

  async opened (): Promise<NonNullable<ReturnType<Mirrors['get']>>> {
    for (let i = 0; i < 500; i++) {
      const m = this.mirrors.get(ORIGIN)
      if (m !== undefined) return m
      await new Promise((resolve) => setTimeout(resolve, 10))
    }
    throw new Error(`the mirror did not open: ${JSON.stringify(this.mirrors.statusJson())}`)
  }

  async stop (): Promise<void> {
    await this.mirrors.stop()
    await this.db.close()
    await this.origin.log.close()
  }
}

describe('mirrors: what a mirror keeps of an origin', function () {
  this.timeout(20_000)
  const key1 = logKey('log key 1')
  const key2 = logKey('log key 2')
  const receipt1 = receiptKey('receipt key 1')

  it('refuses checkpoints stripped of their receipt seals (storing nothing), and stores only the log key\'s signature lines', async () => {
    const origin = new Origin()
    await origin.open(key1, receipt1)
    await origin.add('a', 5)
    const h = new Harness(origin, `log ${key1.vkey}\nquorum none\n`, descriptor(key1, receipt1, 1))
    h.peers = { stripper }
    await h.start()
    try {
      assert.equal(await h.sync(), 0)
      const m = await h.opened()
      assert.deepEqual(m.badPeers().map((b) => [b.peer, b.error.split(':')[0]]), [['stripper', 'MALFORMED']])
      assert.equal(m.log.latestCheckpoint(), undefined)

      h.peers = { stripper, junker }
      assert.equal(await h.sync(), 5)
      const sent = junker('checkpoints/0', await origin.serve('checkpoints/0'))
      assert.equal(parseNote(decodeCheckpointList(sent).at(-1)!.note).signatures.length, 2, 'the junker did add a line')
      assert.equal(m.log.latestCheckpoint()!.note, origin.log.latestCheckpoint()!.note)
      verifyReceipt(await m.log.receipt(4), { entry: utf8('a 4') }, receipt1.verifier)
      assert.deepEqual(m.badPeers().map((b) => b.peer), ['stripper'])
    } finally {
      await h.stop()
    }
  })

  it('follows a receipt key announced in a newer descriptor; an older descriptor changes nothing', async () => {
    const receipt2 = receiptKey('receipt key 2')
    const receipt3 = receiptKey('receipt key 3')
    const origin = new Origin()
    await origin.open(key1, receipt1)
    await origin.add('before', 3)
    const h = new Harness(origin, `log ${key1.vkey}\nquorum none\n`, descriptor(key1, receipt1, 1))
    await h.start()
    try {
      assert.equal(await h.sync(), 3)
      const newer = descriptor(key1, receipt2, 2)
      h.announce(newer)
      for (let i = 0; i < 200 && (await keptReceiptKeys(h.store, ORIGIN)).length < 2; i++) await new Promise((resolve) => setTimeout(resolve, 10))
      assert.deepEqual(await keptReceiptKeys(h.store, ORIGIN), [receipt1.encoded, receipt2.encoded])

      // The origin restarts with its new receipt key; its new checkpoints are sealed with it.
      await origin.log.close()
      await origin.open(key1, receipt2)
      await origin.add('after', 3)
      assert.equal(await h.sync(), 6)
      const m = await h.opened()
      const early = await m.log.receipt(0)
      verifyReceipt(early, { entry: utf8('before 0') }, receipt1.verifier)
      assert.throws(() => verifyReceipt(early, { entry: utf8('before 0') }, receipt2.verifier), { code: 'BAD_SIGNATURE' })
      verifyReceipt(await m.log.receipt(5), { entry: utf8('after 2') }, receipt2.verifier)
      assert.deepEqual(m.badPeers(), [])

      h.announce(descriptor(key1, receipt3, 0))
    } finally {
      await h.stop() // waits for the descriptor being adopted
    }
    assert.deepEqual(await keptReceiptKeys(h.store, ORIGIN), [receipt1.encoded, receipt2.encoded])
    assert.equal(fromUtf8((await h.store.get(STORE_KEYS.mirrorDescriptor(ORIGIN)))!), fromUtf8(descriptor(key1, receipt2, 2)))
  })

  it('accepts checkpoints signed by any log key the policy lists for the origin', async () => {
    const origin = new Origin()
    await origin.open(key2, receipt1)
    await origin.add('b', 4)
    const h = new Harness(origin, `log ${key1.vkey}\nlog ${key2.vkey}\nquorum none\n`, descriptor(key2, receipt1, 1))
    await h.start()
    try {
      assert.equal(await h.sync(), 4)
      const m = await h.opened()
      assert.equal(m.log.latestCheckpoint()!.note, origin.log.latestCheckpoint()!.note)
      assert.equal(h.held.get(ORIGIN)?.log, m.log)
    } finally {
      await h.stop()
    }
  })
})
