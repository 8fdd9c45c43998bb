import assert from 'node:assert/strict'
import fc from 'fast-check'
import {
  EMPTY_ROOT, MAX_NOTE_SIZE,
  ed25519NoteSigner, equalBytes, formatCheckpoint, formatNote, fromHex, isScittError, noteSignerFromSkey, noteVerifierFromVkey,
  openCheckpoint, parseCheckpoint, parseNote, sha256Digest, signCheckpoint, signNote, toBase64, toHex, utf8,
  type Checkpoint,
} from '@scitt/core'
import { loadVector } from '../../../../test/fixtures.js'

const v = loadVector('c2sp-notes')
const m = loadVector('rfc9162-merkle')
const code = (c: string) => (e: unknown) => isScittError(e, c as never)
const logSigner = noteSignerFromSkey(v.log_skey)
const logVerifier = noteVerifierFromVkey(v.log_vkey)
const witnessVerifier = noteVerifierFromVkey(v.witness_vkey)
const ORIGIN = 'example.com/scitt-log'
const ROOT8 = 'XcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQyg='

describe('note/checkpoint', () => {
  it('reproduces checkpoint8 and checkpoint4 byte for byte when signed with the log key', () => {
    for (const size of [8, 4] as const) {
      const fixture: string = v[`checkpoint${size}`]
      const cp: Checkpoint = { origin: ORIGIN, size, rootHash: fromHex(m.roots[String(size)]), extensions: [] }
      assert.equal(formatNote(signCheckpoint(cp, logSigner)), fixture)
      const opened = openCheckpoint(fixture, logVerifier)
      assert.deepEqual(opened.checkpoint, cp)
      assert.equal(opened.verified.length, 1)
    }
  })

  it('opens the cosigned checkpoint with the witness as an extra verifier, or ignores it', () => {
    const both = openCheckpoint(v.cosigned_checkpoint8, logVerifier, [witnessVerifier])
    assert.deepEqual(both.verified.map((s) => s.name), [ORIGIN, 'witness.example/w1'])
    assert.deepEqual(openCheckpoint(v.cosigned_checkpoint8, logVerifier).verified.map((s) => s.name), [ORIGIN])
  })

  it('requires the origin to equal the log key name (UNKNOWN_ORIGIN) and its signature (BAD_SIGNATURE)', () => {
    const other = ed25519NoteSigner('example.com/other', sha256Digest(utf8('other')))
    const otherV = { name: other.name, keyId: other.keyId, verify: () => true }
    assert.throws(() => openCheckpoint(v.checkpoint8, otherV), code('UNKNOWN_ORIGIN'))
    // Signed only by a witness-like key: the log's signature is missing.
    const text = parseNote(v.checkpoint8).text
    const impostor = ed25519NoteSigner('someone', sha256Digest(utf8('someone')))
    const note = formatNote(signNote(text, [impostor]))
    const impostorV = { name: impostor.name, keyId: impostor.keyId, verify: () => true }
    assert.throws(() => openCheckpoint(note, logVerifier, [impostorV]), (e) => isScittError(e, 'BAD_SIGNATURE') && e.details?.reason === 'no-log-signature')
    assert.throws(() => openCheckpoint(note, logVerifier), code('BAD_SIGNATURE'))
    // A tampered size breaks the log signature.
    assert.throws(() => openCheckpoint(v.checkpoint8.replace('\n8\n', '\n9\n'), logVerifier), code('BAD_SIGNATURE'))
  })

  it('accepts a signature by any of the listed log keys, and refuses a list naming another origin or none', () => {
    const second = ed25519NoteSigner(ORIGIN, sha256Digest(utf8('second log key')))
    const secondV = { name: second.name, keyId: second.keyId, verify: (msg: Uint8Array, sig: Uint8Array) => equalBytes(second.sign(msg), sig) }
    const bySecond = formatNote(signNote(parseNote(v.checkpoint8).text, [second]))
    assert.throws(() => openCheckpoint(bySecond, logVerifier), code('BAD_SIGNATURE'))
    assert.deepEqual(openCheckpoint(bySecond, [logVerifier, secondV]).verified.map((s) => s.keyId), [second.keyId])
    assert.equal(openCheckpoint(v.checkpoint8, [logVerifier, secondV]).checkpoint.size, 8)
    const otherV = { ...secondV, name: 'example.com/other' }
    assert.throws(() => openCheckpoint(v.checkpoint8, [logVerifier, otherV]), code('UNKNOWN_ORIGIN'))
    assert.throws(() => openCheckpoint(v.checkpoint8, []), code('UNKNOWN_ORIGIN'))
  })

  it('parses extension lines and size 0 (the empty root is left to verifiers)', () => {
    const text = `${ORIGIN}\n0\n${toBase64(EMPTY_ROOT)}\next one\n— not a signature\n`
    const cp = parseCheckpoint(text)
    assert.equal(cp.size, 0)
    assert.deepEqual(cp.extensions, ['ext one', '— not a signature'])
    assert.equal(formatCheckpoint(cp), text)
    assert.equal(parseCheckpoint(`${ORIGIN}\n0\n${ROOT8}\n`).size, 0)
    assert.equal(parseCheckpoint(`${ORIGIN}\n9007199254740991\n${ROOT8}\n`).size, Number.MAX_SAFE_INTEGER)
  })

  const root33 = toBase64(new Uint8Array(33))
  const root31 = toBase64(new Uint8Array(31))
  const bad: Array<[string, string, string?]> = [
    ['size +5', `${ORIGIN}\n+5\n${ROOT8}\n`],
    ['size 05', `${ORIGIN}\n05\n${ROOT8}\n`],
    ['size 00', `${ORIGIN}\n00\n${ROOT8}\n`],
    ['size 0x10', `${ORIGIN}\n0x10\n${ROOT8}\n`],
    ['size " 5"', `${ORIGIN}\n 5\n${ROOT8}\n`],
    ['size "5 "', `${ORIGIN}\n5 \n${ROOT8}\n`],
    ['size -1', `${ORIGIN}\n-1\n${ROOT8}\n`],
    ['size 1e3', `${ORIGIN}\n1e3\n${ROOT8}\n`],
    ['size 5.0', `${ORIGIN}\n5.0\n${ROOT8}\n`],
    ['empty size', `${ORIGIN}\n\n${ROOT8}\n`],
    ['size 2^53', `${ORIGIN}\n9007199254740992\n${ROOT8}\n`],
    ['size 2^64', `${ORIGIN}\n18446744073709551616\n${ROOT8}\n`],
    ['size with Arabic-Indic digits', `${ORIGIN}\n٥\n${ROOT8}\n`],
    ['missing final newline', `${ORIGIN}\n8\n${ROOT8}`],
    ['only two lines', `${ORIGIN}\n8\n`],
    ['empty extension line', `${ORIGIN}\n8\n${ROOT8}\n\n`],
    ['empty extension line between others', `${ORIGIN}\n8\n${ROOT8}\na\n\nb\n`],
    ['33-byte root', `${ORIGIN}\n8\n${root33}\n`],
    ['31-byte root', `${ORIGIN}\n8\n${root31}\n`],
    ['root not base64', `${ORIGIN}\n8\n${ROOT8.replace('+', '-')}\n`],
    ['root without padding', `${ORIGIN}\n8\n${ROOT8.slice(0, -1)}\n`],
    ['root in hex', `${ORIGIN}\n8\n${m.roots['8']}\n`],
    ['root with trailing space', `${ORIGIN}\n8\n${ROOT8} \n`],
    ['empty origin', `\n8\n${ROOT8}\n`],
    ['CRLF line ends', `${ORIGIN}\r\n8\r\n${ROOT8}\r\n`],
    ['control character in origin', `exa\u0007mple\n8\n${ROOT8}\n`],
    ['empty text', ''],
    ['over the size limit', `${ORIGIN}\n8\n${ROOT8}\n${'x'.repeat(MAX_NOTE_SIZE)}\n`, 'TOO_LARGE'],
  ]
  for (const [what, text, expected = 'MALFORMED'] of bad) {
    it(`rejects a checkpoint with ${what} (${expected})`, () => {
      assert.throws(() => parseCheckpoint(text), code(expected))
    })
  }

  it('rejects non-canonical checkpoints even when correctly signed', () => {
    const text = `${ORIGIN}\n08\n${ROOT8}\n`
    const note = formatNote(signNote(text, [logSigner]))
    assert.throws(() => openCheckpoint(note, logVerifier), code('MALFORMED'))
  })

  it('refuses to format invalid checkpoints (RangeError)', () => {
    const ok: Checkpoint = { origin: ORIGIN, size: 1, rootHash: EMPTY_ROOT, extensions: [] }
    assert.throws(() => formatCheckpoint({ ...ok, origin: '' }), RangeError)
    assert.throws(() => formatCheckpoint({ ...ok, origin: 'a\nb' }), RangeError)
    assert.throws(() => formatCheckpoint({ ...ok, size: -1 }), RangeError)
    assert.throws(() => formatCheckpoint({ ...ok, size: 2 ** 53 }), RangeError)
    assert.throws(() => formatCheckpoint({ ...ok, rootHash: new Uint8Array(31) }), RangeError)
    assert.throws(() => formatCheckpoint({ ...ok, extensions: [''] }), RangeError)
    assert.throws(() => formatCheckpoint({ ...ok, origin: 'a\u0000' }), RangeError)
  })

  const lineArb = fc.stringMatching(/^[^\u0000-\u001f\ud800-\udfff]{1,30}$/)
  const checkpointArb = fc.record({
    origin: lineArb,
    size: fc.maxSafeNat(),
    rootHash: fc.uint8Array({ minLength: 32, maxLength: 32 }),
    extensions: fc.array(lineArb, { maxLength: 3 }),
  })

  it('round-trips format → parse for arbitrary checkpoints (property)', () => {
    fc.assert(fc.property(checkpointArb, (cp) => {
      const text = formatCheckpoint(cp)
      const parsed = parseCheckpoint(text)
      assert.deepEqual({ ...parsed }, { ...cp, rootHash: parsed.rootHash })
      assert.equal(toHex(parsed.rootHash), toHex(cp.rootHash))
      assert.equal(formatCheckpoint(parsed), text)
    }), { numRuns: 300 })
  })

  it('never throws anything but a ScittError on mutated signed checkpoints (property)', () => {
    const base = utf8(v.cosigned_checkpoint8)
    fc.assert(fc.property(fc.array(fc.tuple(fc.nat(base.length - 1), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 4 }), (edits) => {
      const bytes = base.slice()
      for (const [i, b] of edits) bytes[i] = b
      try {
        const { checkpoint } = openCheckpoint(bytes, logVerifier, [witnessVerifier])
        // Anything that still opens must carry exactly the signed content.
        assert.equal(formatCheckpoint(checkpoint), parseNote(v.checkpoint8).text)
      } catch (e) {
        assert.ok(isScittError(e), String(e))
      }
    }), { numRuns: 300 })
  })
})
