/** Mirror mode: another origin's entries, stored only with the origin's signed checkpoint whose root they reproduce. */
import assert from 'node:assert/strict'
import {
  cosignCheckpoint, cosignatureSigner, ed25519NoteSigner, ed25519NoteVerifier, entryId, equalBytes, formatNote, isScittError, parseNote,
  sealCheckpoint, sha256Digest, signCheckpoint, signNote, utf8, verifyReceipt,
} from '@scitt/core'
import { nodeSignatures } from '@scitt/node-crypto'
import { Log, type LogDatabase, type PublishedCheckpoint } from '@scitt/log'
import {
  ORIGIN, SignatureRecord, entryOf, filesFor, leavesFromBundles, logOptions, memoryBackend, mth, noteVerifier, oracleLeafHash,
  receiptProtected, receiptSigner, receiptVerifier,
} from './harness.js'

const backend = memoryBackend()

describe('Log as a mirror', function () {
  let origin: Log
  let mirrorDb: LogDatabase
  const checkpoints: PublishedCheckpoint[] = []
  const entries: Uint8Array[] = []

  before(async () => {
    origin = await Log.open(logOptions(await backend.create(), new SignatureRecord(), { batchSize: 50 }))
    origin.onCheckpoint((cp) => checkpoints.push(cp))
    for (let i = 0; i < 300; i++) entries.push(entryOf(`origin ${i}`))
    await Promise.all(entries.map((e) => origin.add(e)))
  })

  beforeEach(async () => {
    mirrorDb = await backend.create()
  })

  async function mirror (): Promise<Log> {
    return Log.openMirror({ db: mirrorDb, files: filesFor(mirrorDb), origin: ORIGIN, verifiers: [noteVerifier], receiptVerifiers: () => [receiptVerifier] })
  }

  async function code (promise: Promise<unknown>): Promise<string> {
    return promise.then(() => 'ok', (err) => (isScittError(err) ? err.code : String(err)))
  }

  it('stores entries with the checkpoints they reproduce, and serves the origin\'s tiles, proofs and receipts', async () => {
    const m = await mirror()
    assert.equal(m.latestCheckpoint(), undefined)
    await code(m.add(entryOf('x'))).then((c) => assert.equal(c, 'UNSUPPORTED'))
    let size = 0
    for (const cp of checkpoints) {
      const stored = await m.appendVerified(entries.slice(size, cp.size), [{ note: cp.note, seal: cp.seal }])
      assert.equal(stored.size, cp.size)
      assert.ok(equalBytes(stored.rootHash, cp.rootHash))
      size = cp.size
    }
    const latest = origin.latestCheckpoint()!
    assert.equal(m.latestCheckpoint()!.size, latest.size)
    assert.equal(m.latestCheckpoint()!.note, latest.note, 'the origin\'s note, not ours')
    for (const tile of [{ level: 0, index: 0, width: 256 }, { level: 0, index: 1, width: 44 }, { level: 1, index: 0, width: 1 }]) {
      assert.deepEqual(await m.tile(tile), await origin.tile(tile))
    }
    assert.deepEqual(await m.entryBundle(1, 44), await origin.entryBundle(1, 44))
    assert.deepEqual(await m.receipt(123), await origin.receipt(123), 'a mirror mints the origin\'s own receipts')
    verifyReceipt(await m.receipt(123), { entry: entries[123]! }, receiptVerifier)
    assert.deepEqual(await m.consistencyProof(50, 300), await origin.consistencyProof(50, 300))
    const leaves = await leavesFromBundles(m, 300)
    assert.ok(equalBytes(mth(leaves), latest.rootHash))
    const report = await m.fsck({ receiptVerifiers: [receiptVerifier] })
    assert.deepEqual(report.errors, [])
    assert.equal(report.checkpoints, checkpoints.length)
    const restarted = await mirror()
    assert.equal(restarted.latestCheckpoint()!.size, 300, 'a mirror resumes too')
  })

  it('stores many checkpoints in one write, each root checked at its own size', async () => {
    const m = await mirror()
    const some = checkpoints.slice(0, 4)
    const last = some.at(-1)!
    const stored = await m.appendVerified(entries.slice(0, last.size), some.map((cp) => ({ note: cp.note, seal: cp.seal })))
    assert.equal(stored.size, last.size)
    for (const cp of some) assert.equal((await m.checkpointAt(cp.size)).note, cp.note)
    assert.deepEqual((await m.checkpointsAfter(0, 10)).map((cp) => cp.size), some.map((cp) => cp.size))
    assert.deepEqual((await m.checkpointsAfter(some[0]!.size, 2)).map((cp) => cp.note), some.slice(1, 3).map((cp) => cp.note))
    assert.deepEqual(await m.checkpointsAfter(last.size, 10), [])
    for (const index of [0, some[0]!.size, last.size - 1]) assert.deepEqual(await m.receipt(index), await origin.receipt(index), 'receipts at the first covering checkpoint, as the origin mints them')
    assert.deepEqual((await m.fsck({ receiptVerifiers: [receiptVerifier] })).errors, [])
  })

  it('rejects a batch when any intermediate root or size is wrong, and stores nothing of it', async () => {
    const m = await mirror()
    const [a, b, c] = [checkpoints[0]!, checkpoints[1]!, checkpoints[2]!]
    const tampered = entries.slice(0, c.size)
    tampered[a.size] = entryOf('forged') // inside b's range: b's root cannot match, c's cannot either
    assert.equal(await code(m.appendVerified(tampered, [a, b, c].map((cp) => ({ note: cp.note, seal: cp.seal })))), 'BAD_PROOF')
    assert.equal(await code(m.appendVerified(entries.slice(0, c.size), [b, a, c].map((cp) => ({ note: cp.note, seal: cp.seal })))), 'CONFLICT')
    assert.equal(await code(m.appendVerified(entries.slice(0, c.size), [a, a, c].map((cp) => ({ note: cp.note, seal: cp.seal })))), 'CONFLICT')
    const badSeal = { ...b.seal!, signature: receiptSigner.sign(utf8('something else')) }
    assert.equal(await code(m.appendVerified(entries.slice(0, c.size), [{ note: a.note, seal: a.seal }, { note: b.note, seal: badSeal }, { note: c.note, seal: c.seal }])), 'BAD_SIGNATURE')
    assert.equal(m.latestCheckpoint(), undefined)
    assert.equal((await m.fsck()).size, 0)
  })

  it('rejects entries that do not reproduce the root, and stores nothing', async () => {
    const m = await mirror()
    const cp = checkpoints[0]!
    const tampered = entries.slice(0, cp.size)
    tampered[3] = entryOf('forged')
    assert.equal(await code(m.appendVerified(tampered, [{ note: cp.note, seal: cp.seal }])), 'BAD_PROOF')
    assert.equal(await code(m.appendVerified(entries.slice(0, cp.size - 1), [{ note: cp.note, seal: cp.seal }])), 'CONFLICT')
    assert.equal(m.latestCheckpoint(), undefined)
    assert.equal((await m.fsck()).size, 0)
    await m.appendVerified(entries.slice(0, cp.size), [{ note: cp.note, seal: cp.seal }])
    assert.equal(m.latestCheckpoint()!.size, cp.size)
  })

  it('rejects checkpoints not signed by the origin, and seals that do not verify', async () => {
    const m = await mirror()
    const cp = checkpoints[0]!
    const slice = entries.slice(0, cp.size)
    const impostor = ed25519NoteSigner(ORIGIN, sha256Digest(utf8('not the origin key')), nodeSignatures)
    const forged = formatNote(signCheckpoint({ origin: ORIGIN, size: cp.size, rootHash: cp.rootHash, extensions: [] }, impostor))
    assert.equal(await code(m.appendVerified(slice, [{ note: forged, seal: cp.seal }])), 'BAD_SIGNATURE')
    const other = ed25519NoteSigner('other.example/log', sha256Digest(utf8('other')), nodeSignatures)
    const foreign = formatNote(signCheckpoint({ origin: 'other.example/log', size: cp.size, rootHash: cp.rootHash, extensions: [] }, other))
    assert.equal(await code(m.appendVerified(slice, [{ note: foreign, seal: cp.seal }])), 'UNKNOWN_ORIGIN')
    const badSeal = { ...cp.seal!, signature: receiptSigner.sign(utf8('something else')) }
    assert.equal(await code(m.appendVerified(slice, [{ note: cp.note, seal: badSeal }])), 'BAD_SIGNATURE')
    assert.equal(await code(m.appendVerified(slice, [{ note: cp.note.replace(/\n\n.*$/s, '\n'), seal: cp.seal }])), 'MALFORMED')
    // Without its seal the mirror could never mint receipts (nor pass them on): refused.
    assert.equal(await code(m.appendVerified(slice, [{ note: cp.note, seal: undefined }])), 'MALFORMED')
    assert.equal(m.latestCheckpoint(), undefined)
    await m.appendVerified(slice, [{ note: cp.note, seal: cp.seal }])
    verifyReceipt(await m.receipt(0), { entry: slice[0]! }, receiptVerifier)
  })

  it('stores only the log keys\' verified signature lines of a checkpoint', async () => {
    const m = await mirror()
    const cp = checkpoints[0]!
    const witness = cosignatureSigner('witness.example/w', sha256Digest(utf8('w')), () => 1_700_000_000, nodeSignatures)
    const stranger = ed25519NoteSigner('stranger.example/k', sha256Digest(utf8('s')), nodeSignatures)
    const note = parseNote(cp.note)
    const junk = formatNote({ text: note.text, signatures: [...note.signatures, cosignCheckpoint(note.text, witness), ...signNote(note.text, [stranger]).signatures] })
    assert.equal(parseNote(junk).signatures.length, 3)
    const stored = await m.appendVerified(entries.slice(0, cp.size), [{ note: junk, seal: cp.seal }])
    assert.equal(stored.note, cp.note, 'the unverified lines are dropped')
    assert.equal(m.latestCheckpoint()!.note, cp.note)
  })

  it('accepts a checkpoint under any listed log key, and a seal under any receipt key known at the append', async () => {
    const rotatedSeed = sha256Digest(utf8('rotated log key'))
    const rotated = ed25519NoteSigner(ORIGIN, rotatedSeed, nodeSignatures)
    const rotatedVerifier = ed25519NoteVerifier(ORIGIN, nodeSignatures.signer('Ed25519', rotatedSeed).publicKey, nodeSignatures)
    const newReceiptSigner = nodeSignatures.signer('Ed25519', sha256Digest(utf8('new receipt key')))
    const receiptKeys = [receiptVerifier]
    const m = await Log.openMirror({ db: mirrorDb, files: filesFor(mirrorDb), origin: ORIGIN, verifiers: [noteVerifier, rotatedVerifier], receiptVerifiers: () => receiptKeys })
    const [a, b] = [checkpoints[0]!, checkpoints[1]!]
    await m.appendVerified(entries.slice(0, a.size), [{ note: a.note, seal: a.seal }])
    // The origin's next checkpoint, signed with its second key and sealed with a new receipt key.
    const next = formatNote(signCheckpoint({ origin: ORIGIN, size: b.size, rootHash: b.rootHash, extensions: [] }, rotated))
    const newSeal = sealCheckpoint(receiptProtected, b.rootHash, newReceiptSigner)
    assert.equal(await code(m.appendVerified(entries.slice(a.size, b.size), [{ note: next, seal: newSeal }])), 'BAD_SIGNATURE', 'the new receipt key is not known yet')
    receiptKeys.push(nodeSignatures.verifier('Ed25519', newReceiptSigner.publicKey))
    const stored = await m.appendVerified(entries.slice(a.size, b.size), [{ note: next, seal: newSeal }])
    assert.equal(stored.size, b.size)
    assert.deepEqual((await m.fsck({ receiptVerifiers: receiptKeys })).errors, [])
    assert.match((await m.fsck({ receiptVerifiers: [receiptVerifier] })).errors.join('\n'), new RegExp(`checkpoint ${b.size}: receipt seal does not verify`))
  })

  it('indexes an entry the origin logged twice at one of its occurrences, and fsck accepts it', async () => {
    const other = await Log.openMirror({ db: mirrorDb, files: filesFor(mirrorDb), origin: 'twice.example/log', verifiers: [twiceVerifier], receiptVerifiers: () => [receiptVerifier] })
    const dup = [entryOf('a'), entryOf('b'), entryOf('a')]
    const rootHash = mth(dup.map(oracleLeafHash))
    const note = formatNote(signCheckpoint({ origin: 'twice.example/log', size: 3, rootHash, extensions: [] }, twiceSigner))
    await other.appendVerified(dup, [{ note, seal: sealCheckpoint(receiptProtected, rootHash, receiptSigner) }])
    assert.ok([0, 2].includes((await other.indexOf(entryId(entryOf('a'))))!))
    assert.equal(await other.indexOf(entryId(entryOf('b'))), 1)
    assert.deepEqual((await other.fsck()).errors, [])
  })
})

const twiceSeed = sha256Digest(utf8('twice'))
const twiceSigner = ed25519NoteSigner('twice.example/log', twiceSeed, nodeSignatures)
const twiceVerifier = ed25519NoteVerifier('twice.example/log', nodeSignatures.signer('Ed25519', twiceSeed).publicKey, nodeSignatures)
