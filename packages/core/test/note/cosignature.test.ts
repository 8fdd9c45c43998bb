import assert from 'node:assert/strict'
import {
  COSIGNATURE_V1_SIZE,
  concatBytes, cosignCheckpoint, cosignatureMessage, cosignatureSigner, cosignatureVerifier, formatNote,
  formatSignatureLine, fromHex, isScittError, noteVerifierFromVkey, openNote, parseCosignature, parseNote,
  portableSignatures, sha256Digest, signNote, toHex, utf8,
} from '@scitt/core'
import { loadVector } from '../../../../test/fixtures.js'

const v = loadVector('c2sp-notes')
const code = (c: string) => (e: unknown) => isScittError(e, c as never)
const witnessSeed = sha256Digest(utf8(v.witness_key_seed_label))
const witnessPub = portableSignatures.signer('Ed25519', witnessSeed).publicKey
const TIME = 1700000000
const text8 = parseNote(v.checkpoint8).text

/** A cosignature with an arbitrary u64 timestamp, built by hand. */
function rawCosignature (timestamp: bigint, text: string): Uint8Array {
  const t = new Uint8Array(8)
  new DataView(t.buffer).setBigUint64(0, timestamp)
  const message = concatBytes(utf8(`cosignature/v1\ntime ${timestamp}\n`), utf8(text))
  return concatBytes(t, portableSignatures.signer('Ed25519', witnessSeed).sign(message))
}

describe('note/cosignature', () => {
  it('builds the exact signed message', () => {
    assert.equal(toHex(cosignatureMessage(text8, TIME)), toHex(utf8(v.cosig_signed_message)))
  })

  it('reproduces the fixture cosignature line at time 1700000000', () => {
    const signer = cosignatureSigner('witness.example/w1', witnessSeed, () => TIME)
    assert.equal(signer.keyId, 0x16416551)
    const sig = cosignCheckpoint(text8, signer)
    assert.equal(sig.signature.length, COSIGNATURE_V1_SIZE)
    assert.equal(formatSignatureLine(sig), v.cosig_line)
    assert.deepEqual(parseCosignature(sig), { timestamp: TIME, signature: sig.signature.slice(8) })
    // Appending it to the log-signed checkpoint gives the cosigned fixture.
    const note = parseNote(v.checkpoint8)
    assert.equal(formatNote({ ...note, signatures: [...note.signatures, sig] }), v.cosigned_checkpoint8)
  })

  it('verifies the fixture cosignature through the vkey and rejects tampering', () => {
    const verifier = noteVerifierFromVkey(v.witness_vkey)
    const { verified } = openNote(v.cosigned_checkpoint8, [verifier])
    assert.deepEqual(verified.map((s) => s.name), ['witness.example/w1'])
    const sig = verified[0]!.signature
    assert.ok(verifier.verify(utf8(text8), sig))
    assert.ok(!verifier.verify(utf8(text8.replace('8', '9')), sig))
    const otherTime = sig.slice()
    otherTime[7]! ^= 1
    assert.ok(!verifier.verify(utf8(text8), otherTime))
    assert.ok(!verifier.verify(utf8(text8), sig.subarray(0, 71)))
    assert.ok(!verifier.verify(utf8(text8), sig.subarray(8)))
    // A plain Ed25519 signature over the text is not a cosignature.
    const plain = portableSignatures.signer('Ed25519', witnessSeed).sign(utf8(text8))
    assert.ok(!verifier.verify(utf8(text8), concatBytes(new Uint8Array(8), plain)))
  })

  it('covers extension lines', () => {
    const text = `${text8}extension\n`
    const signer = cosignatureSigner('w', witnessSeed, () => 5)
    const verifier = cosignatureVerifier('w', witnessPub)
    const sig = cosignCheckpoint(text, signer)
    assert.ok(verifier.verify(utf8(text), sig.signature))
    assert.ok(!verifier.verify(utf8(text8), sig.signature))
  })

  it('verifies timestamps up to 2^63-1 but reports those above 2^53-1 as MALFORMED when parsed', () => {
    const verifier = cosignatureVerifier('w', witnessPub)
    const big = rawCosignature(2n ** 53n + 1n, text8)
    assert.ok(verifier.verify(utf8(text8), big))
    assert.throws(() => parseCosignature({ name: 'w', keyId: verifier.keyId, signature: big }), code('MALFORMED'))
    assert.ok(verifier.verify(utf8(text8), rawCosignature(2n ** 63n - 1n, text8)))
    assert.ok(!verifier.verify(utf8(text8), rawCosignature(2n ** 63n, text8)))
    assert.ok(verifier.verify(utf8(text8), rawCosignature(0n, text8)))
  })

  it('parses only 72-byte cosignatures', () => {
    for (const n of [0, 8, 71, 73]) {
      assert.throws(() => parseCosignature({ name: 'w', keyId: 1, signature: new Uint8Array(n) }), code('MALFORMED'))
    }
  })

  it('refuses to cosign what is not a checkpoint, and bad timestamps', () => {
    const signer = cosignatureSigner('w', witnessSeed, () => TIME)
    assert.throws(() => cosignCheckpoint('not a checkpoint\n', signer), code('MALFORMED'))
    assert.throws(() => cosignatureMessage(text8, -1), RangeError)
    assert.throws(() => cosignatureMessage(text8, 1.5), RangeError)
    const broken = cosignatureSigner('w', witnessSeed, () => Number.NaN)
    assert.throws(() => signNote(text8, [broken]), RangeError)
    assert.throws(() => cosignatureSigner('bad name', witnessSeed, () => TIME), RangeError)
    assert.throws(() => cosignatureSigner('w', fromHex('00'), () => TIME), RangeError)
  })
})
