/**
 * The federation's parts alone, without libp2p: heads (pure), the answer framing, gossip verdicts, the
 * peer directory (with a stand-in network) and the registry of held logs.
 */
import '../src/p2p/polyfill.js'
import assert from 'node:assert/strict'
import {
  ScittError, cosignCheckpoint, cosignatureSigner, ed25519NoteSigner, ed25519NoteVerifier, formatCheckpoint, formatNote, formatVkey, signNote, sha256Digest, utf8,
  NOTE_KEY_TYPE_COSIGNATURE_V1, NOTE_KEY_TYPE_ED25519, type Checkpoint, type NoteSignature,
} from '@scitt/core'
import { nodeSignatures } from '@scitt/node-crypto'
import { HeldLogs, Heads, TrustPolicy, decodeAnswer, encodeAnswer, refusalFor, signDescriptor, silentLogger, type Network } from '@scitt/node'
import { PeerDirectory } from '../src/federation/directory.js'
import { verdictFor } from '../src/federation/gossip.js'
import { Auditor } from '../src/federation/auditor.js'
import { EvidenceStore, MAX_EVIDENCE_PER_ORIGIN, buildEvidence } from '../src/federation/equivocation.js'
import { encodeConsistencyAnswer } from '../src/federation/wire.js'
import type { FederationDb } from '../src/witness/store.js'

const seed = (label: string): Uint8Array => sha256Digest(utf8(label))
const log = ed25519NoteSigner('x.example/log', seed('log x'), nodeSignatures)
const publicKey = (label: string): Uint8Array => nodeSignatures.signer('Ed25519', seed(label)).publicKey
const logVerifier = ed25519NoteVerifier('x.example/log', publicKey('log x'), nodeSignatures)
const witness = (name: string): { signer: ReturnType<typeof cosignatureSigner>, vkey: string } => {
  const signer = cosignatureSigner(name, seed(name), () => 1_700_000_000, nodeSignatures)
  return { signer, vkey: formatVkey(name, NOTE_KEY_TYPE_COSIGNATURE_V1, publicKey(name)) }
}
const w1 = witness('x.example/log/witness')
const w2 = witness('y.example/log/witness')
const trust = TrustPolicy.parse([
  `log ${formatVkey('x.example/log', NOTE_KEY_TYPE_ED25519, publicKey('log x'))}`,
  `witness w1 ${w1.vkey}`,
  `witness w2 ${w2.vkey}`,
  'group q 2 w1 w2',
  'quorum q',
  '',
].join('\n'))

function checkpoint (size: number, root = `root ${size}`): { checkpoint: Checkpoint, text: string, log: NoteSignature } {
  const cp: Checkpoint = { origin: 'x.example/log', size, rootHash: seed(root), extensions: [] }
  const text = formatCheckpoint(cp)
  return { checkpoint: cp, text, log: signNote(text, [log]).signatures[0]! }
}

describe('federation parts (no libp2p)', () => {
  describe('heads', () => {
    const judge = (n: Parameters<TrustPolicy['quorum']>[0]): { witnesses: string[], ok: boolean } => trust.quorum(n)

    it('records a new size, merges cosignatures on it, and reaches the quorum', () => {
      const heads = new Heads()
      const c = checkpoint(5)
      const first = heads.take({ checkpoint: c.checkpoint, text: c.text, signatures: [c.log] }, judge, 1)
      assert.equal(first.kind, 'new')
      const s1 = cosignCheckpoint(c.text, w1.signer)
      const s2 = cosignCheckpoint(c.text, w2.signer)
      assert.equal(heads.take({ checkpoint: c.checkpoint, text: c.text, signatures: [c.log, s1] }, judge, 2).kind, 'cosigned')
      assert.equal(heads.take({ checkpoint: c.checkpoint, text: c.text, signatures: [c.log, s1] }, judge, 3).kind, 'known', 'nothing new')
      const last = heads.take({ checkpoint: c.checkpoint, text: c.text, signatures: [c.log, s2] }, judge, 4)
      assert.equal(last.kind, 'cosigned')
      const head = heads.latest('x.example/log')!
      assert.deepEqual([head.quorum, head.witnesses.sort(), head.signatures.length, head.seenAt], [true, ['w1', 'w2'], 3, 1])
    })

    it('tells a conflict, a stale size and a smaller remembered size apart', () => {
      const heads = new Heads()
      const c5 = checkpoint(5)
      const c7 = checkpoint(7)
      heads.take({ checkpoint: c5.checkpoint, text: c5.text, signatures: [c5.log] }, judge, 1)
      const seven = heads.take({ checkpoint: c7.checkpoint, text: c7.text, signatures: [c7.log] }, judge, 2)
      assert.equal(seven.kind === 'new' ? seven.previous?.size : undefined, 5)
      const fork = checkpoint(7, 'another root')
      assert.equal(heads.take({ checkpoint: fork.checkpoint, text: fork.text, signatures: [fork.log] }, judge, 3).kind, 'conflict')
      const c6 = checkpoint(6)
      const stale = heads.take({ checkpoint: c6.checkpoint, text: c6.text, signatures: [c6.log] }, judge, 4)
      assert.equal(stale.kind === 'stale' ? stale.latest.size : undefined, 7)
      assert.equal(heads.take({ checkpoint: c5.checkpoint, text: c5.text, signatures: [c5.log] }, judge, 5).kind, 'known')
    })

    it('never merges signatures made over another text of the same tree', () => {
      const heads = new Heads()
      const c = checkpoint(5)
      heads.take({ checkpoint: c.checkpoint, text: c.text, signatures: [c.log] }, judge, 1)
      const other = formatCheckpoint({ ...c.checkpoint, extensions: ['an extension line'] })
      const s1 = cosignCheckpoint(other, w1.signer)
      assert.equal(heads.take({ checkpoint: c.checkpoint, text: other, signatures: [signNote(other, [log]).signatures[0]!, s1] }, judge, 2).kind, 'known')
      assert.equal(heads.latest('x.example/log')!.signatures.length, 1)
    })
  })

  describe('answer framing', () => {
    it('round-trips ok and refusals, and refuses anything else', () => {
      assert.deepEqual(decodeAnswer(encodeAnswer({ ok: utf8('body') })), { ok: utf8('body') })
      assert.deepEqual(decodeAnswer(encodeAnswer(refusalFor(new ScittError('NOT_FOUND', 'no\nsuch')))), { refused: { code: 'NOT_FOUND', reason: 'no such' } })
      assert.deepEqual(decodeAnswer(encodeAnswer(refusalFor(new RangeError('secret internals')))), { refused: { code: 'INTERNAL', reason: 'internal error' } })
      for (const bad of ['', 'ok', 'error no such sizes\n', 'error NOPE: x\n', 'error NOT_FOUND: x\ntrailing', 'error NOT_FOUND: x']) {
        assert.throws(() => decodeAnswer(utf8(bad)), (err: unknown) => err instanceof ScittError && err.code === 'MALFORMED', JSON.stringify(bad))
      }
    })
  })

  describe('gossip verdicts', () => {
    it('rejects bad messages, ignores unknown origins and never rejects for an internal error', () => {
      assert.equal(verdictFor(new ScittError('BAD_SIGNATURE', 'x')), 'reject')
      assert.equal(verdictFor(new ScittError('MALFORMED', 'x')), 'reject')
      assert.equal(verdictFor(new ScittError('UNKNOWN_ORIGIN', 'x')), 'ignore')
      assert.equal(verdictFor(new RangeError('more than 100 signatures')), 'ignore')
      assert.equal(verdictFor(new TypeError('undefined is not a function')), 'ignore')
    })
  })

  describe('peer directory', () => {
    const y = ed25519NoteSigner('y.example/log', seed('log y'), nodeSignatures)
    const keys = new Map([['x.example/log', [logVerifier]], ['y.example/log', [ed25519NoteVerifier('y.example/log', publicKey('log y'), nodeSignatures)]]])
    const fakeNetwork = {
      peerId: { toString: () => '12D3KooWSelf' },
      getMultiaddrs: () => [],
      services: { pubsub: { addEventListener: () => {} } },
      peerStore: { merge: async () => {} },
      getConnections: () => [{}],
      dial: async () => {},
    } as unknown as Network
    const directory = (): PeerDirectory => new PeerDirectory({
      network: fakeNetwork,
      own: { origin: 'z.example/log', roles: [] },
      logSigner: y,
      keysFor: (o) => keys.get(o) ?? [],
      publish: async () => {},
      onDescriptor: () => {},
      announceMs: 10_000,
      timeoutMs: 1000,
      logger: silentLogger(),
      now: () => 0,
    })
    const descriptor = (origin: string, peer: string, signer: typeof y, time: number, witnessVkey?: string): Uint8Array =>
      utf8(signDescriptor({ origin, peer, addrs: [], roles: ['witness'], time, ...(witnessVkey === undefined ? {} : { witness: witnessVkey }) }, signer))
    const peerX = '12D3KooWAX6ux6zYdJpGAqnvUPz9C1XT1oyXZsP4nYpHFwdxnmwJ'
    const peerY = '12D3KooWQYhTNQdmr3ArTeUHRYzFg94BKyTkoWBDWez9kSCVe2Xo'

    it('sends a witness\'s requests only to the peer of the origin its key is named after', () => {
      const d = directory()
      const w = trust.witnesses.find((x) => x.name === 'w1')!
      // y announces x's witness key with its own peer id: not taken as the witness's address.
      assert.equal(d.accept(descriptor('y.example/log', peerY, y, 10, w1.vkey)), 'accept')
      assert.equal(d.witnessPeer(w), undefined)
      assert.equal(d.accept(descriptor('x.example/log', peerX, log, 5, w1.vkey)), 'accept')
      assert.equal(d.witnessPeer(w), peerX)
      assert.deepEqual(d.peersFor('x.example/log'), [peerX])
    })

    it('keeps the newer descriptor of a peer and refuses untrusted ones', () => {
      const d = directory()
      assert.equal(d.accept(descriptor('x.example/log', peerX, log, 5)), 'accept')
      assert.equal(d.accept(descriptor('x.example/log', peerX, log, 4)), 'ignore', 'an older descriptor')
      assert.throws(() => d.accept(descriptor('x.example/log', peerY, y, 6)), (err: unknown) => err instanceof ScittError)
      assert.deepEqual(d.holders('x.example/log'), [peerX])
    })

    it('dials an announced peer once at a time, not again within an announce period after a failure, and stores unchanged addresses once', async () => {
      let now = 0
      let dials = 0
      let merges = 0
      let fail: (err: Error) => void = () => {}
      const network = {
        ...fakeNetwork,
        peerStore: { merge: async () => { merges++ } },
        getConnections: () => [],
        dial: async () => { dials++; await new Promise((_resolve, reject) => { fail = reject }) },
      } as unknown as Network
      const d = new PeerDirectory({
        network, own: { origin: 'z.example/log', roles: [] }, logSigner: y, keysFor: (o) => keys.get(o) ?? [],
        publish: async () => {}, onDescriptor: () => {}, announceMs: 10_000, timeoutMs: 1000, logger: silentLogger(), now: () => now,
      })
      const settle = async (): Promise<void> => { for (let i = 0; i < 5; i++) await new Promise((resolve) => setImmediate(resolve)) }
      const addrs = ['/ip4/127.0.0.1/tcp/4001']
      const announce = (time: number, a = addrs): Uint8Array => utf8(signDescriptor({ origin: 'x.example/log', peer: peerX, addrs: a, roles: [], time }, log))
      assert.equal(d.accept(announce(1)), 'accept')
      await settle()
      assert.equal(d.accept(announce(2)), 'accept')
      await settle()
      assert.deepEqual({ dials, merges }, { dials: 1, merges: 1 }, 'no second dial while the first is under way')
      fail(new Error('timed out'))
      await settle()
      now = 9_999
      d.accept(announce(3))
      await settle()
      assert.equal(dials, 1, 'no dial within an announce period of the failure')
      now = 10_000
      d.accept(announce(4))
      await settle()
      assert.deepEqual({ dials, merges }, { dials: 2, merges: 1 }, 'dialed again after the period; the same addresses stored once')
      fail(new Error('timed out'))
      await settle()
      d.accept(announce(5, ['/ip4/127.0.0.1/tcp/4002']))
      await settle()
      assert.deepEqual({ dials, merges }, { dials: 3, merges: 2 }, 'new addresses are stored and dialed at once')
      fail(new Error('timed out'))
      await settle()
    })
    it('announces soon after peers subscribe, once for a burst, and not within a quarter period of its last announce', async () => {
      let now = 0
      const published: number[] = []
      let onChange: () => void = () => {}
      const network = {
        ...fakeNetwork,
        services: { pubsub: { addEventListener: (_event: string, listener: () => void) => { onChange = listener } } },
      } as unknown as Network
      const d = new PeerDirectory({
        network, own: { origin: 'z.example/log', roles: [] }, logSigner: y, keysFor: (o) => keys.get(o) ?? [],
        publish: async () => { published.push(now) }, onDescriptor: () => {}, announceMs: 4000, timeoutMs: 1000, logger: silentLogger(), now: () => now,
      })
      const wait = async (ms: number): Promise<void> => { await new Promise((resolve) => setTimeout(resolve, ms)) }
      try {
        await d.start()
        assert.deepEqual(published, [0], 'announced at start')
        now = 100 // 100 ms after the start's announce: the next may come at 1 000 (a quarter of 4 000)
        for (let i = 0; i < 20; i++) onChange()
        await wait(400)
        assert.deepEqual(published, [0], 'not within a quarter period of the last announce')
        await wait(1000)
        assert.deepEqual(published, [0, 100], 'then one announce for the whole burst')
        now = 10_000
        onChange()
        onChange()
        await wait(500)
        assert.deepEqual(published, [0, 100, 10_000], 'long after the last: soon, once')
      } finally {
        d.stop()
      }
    })
  })

  describe('evidence and the auditor', () => {
    const memory = (): FederationDb => {
      const kept = new Map<string, Uint8Array>()
      return { get: async (k) => kept.get(k), put: async (k, v) => { kept.set(k, v) }, values: async function * ({ gte, lt }) { for (const [k, v] of kept) if (k >= gte && k < lt) yield v } }
    }
    const note = (size: number, root = `root ${size}`): string => {
      const c = checkpoint(size, root)
      return formatNote({ text: c.text, signatures: [c.log] })
    }

    it('keeps at most a few pieces of evidence per origin, but always its first same-size evidence', async () => {
      const store = new EvidenceStore(memory())
      for (let i = 0; i < MAX_EVIDENCE_PER_ORIGIN; i++) {
        assert.equal(await store.add(buildEvidence('no-consistency-proof', 'x.example/log', note(1), note(2 + i), [logVerifier], [{ peer: 'p', error: 'e' }])), true)
      }
      assert.equal(await store.add(buildEvidence('no-consistency-proof', 'x.example/log', note(1), note(100), [logVerifier], [{ peer: 'p', error: 'e' }])), false)
      assert.equal(await store.add(buildEvidence('same-size', 'x.example/log', note(5), note(5, 'other'), [logVerifier])), true)
      assert.equal(await store.add(buildEvidence('same-size', 'x.example/log', note(6), note(6, 'other'), [logVerifier])), false)
      assert.equal(store.list().length, MAX_EVIDENCE_PER_ORIGIN + 1)
    })

    it('makes no evidence of a holder that is overloaded or failing, and evidence of one that refuses the proof', async () => {
      const run = async (code: 'PUSHBACK' | 'INTERNAL' | 'NOT_FOUND'): Promise<number> => {
        const evidence = new EvidenceStore(memory())
        const auditor = new Auditor({
          origin: 'self.example/log',
          log: { latestCheckpoint: () => undefined } as never,
          held: new HeldLogs(['self.example/log']),
          directory: { holders: () => ['peer-x'], peersFor: () => ['peer-x'] } as never,
          protocols: { ask: async () => encodeConsistencyAnswer({ refused: { code, reason: 'no' } }) } as never,
          evidence,
          keysFor: (o) => (o === 'x.example/log' ? [logVerifier] : []),
          publish: async () => {},
          onEvidence: () => {},
          peerId: () => 'self',
          logger: silentLogger(),
          metrics: undefined,
        })
        await auditor.checkConsistency(note(3), note(7))
        return evidence.list().length
      }
      assert.equal(await run('PUSHBACK'), 0)
      assert.equal(await run('INTERNAL'), 0)
      assert.equal(await run('NOT_FOUND'), 1)
    })
  })

  describe('held logs', () => {
    it('lists the own log first, then the mirrors in the configured order, and finds them by hash', () => {
      const held = new HeldLogs(['own.example/log', 'm1.example/log', 'm2.example/log'])
      const fake = {} as never
      held.add({ origin: 'm2.example/log', log: fake, checkpointNote: () => undefined, descriptor: () => undefined })
      held.add({ origin: 'own.example/log', log: fake, checkpointNote: () => undefined, descriptor: () => undefined })
      assert.deepEqual(held.all().map((h) => h.origin), ['own.example/log', 'm2.example/log'])
      assert.equal(held.byHash(held.get('m2.example/log')!.hash)?.origin, 'm2.example/log')
      assert.throws(() => held.add({ origin: 'other.example/log', log: fake, checkpointNote: () => undefined, descriptor: () => undefined }), RangeError)
    })
  })
})
