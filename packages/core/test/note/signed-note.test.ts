import assert from 'node:assert/strict'
import fc from 'fast-check'
import {
  MAX_NOTE_SIGNATURES, MAX_NOTE_SIZE, NOTE_KEY_TYPE_ED25519,
  ed25519NoteSigner, ed25519NoteVerifier, formatNote, formatSignatureLine, isScittError, isValidKeyName, keyId,
  noteSignerFromSkey, noteVerifierFromVkey, openNote, parseNote, portableSignatures, sha256Digest, signNote,
  utf8, verifyNote, type Note, type NoteVerifier,
} from '@scitt/core'
import { loadVector } from '../../../../test/fixtures.js'

const v = loadVector('c2sp-notes')
const seed = (label: string): Uint8Array => sha256Digest(utf8(label))
const code = (c: string) => (e: unknown) => isScittError(e, c as never)

// Go's golang.org/x/mod/sumdb/note documentation example.
const GO = {
  skey: 'PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz',
  vkey: 'PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW',
  text: 'If you think cryptography is the answer to your problem,\nthen you don\'t know what your problem is.\n',
  line: '— PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n',
}

const alice = ed25519NoteSigner('alice.example', seed('alice'))
const aliceV = ed25519NoteVerifier('alice.example', portableSignatures.signer('Ed25519', seed('alice')).publicKey)
const bob = ed25519NoteSigner('bob.example', seed('bob'))
const bobV = ed25519NoteVerifier('bob.example', portableSignatures.signer('Ed25519', seed('bob')).publicKey)
const TEXT = 'hello\n\nworld\n'
const SIGNED = formatNote(signNote(TEXT, [alice, bob]))

describe('note/signed-note', () => {
  it('verifies the C2SP signed-note example', () => {
    const ex = v.c2sp_signed_note_example
    const { note, verified } = openNote(ex.note, [noteVerifierFromVkey(ex.vkey)])
    assert.equal(note.text, 'This is an example message.\n')
    assert.equal(verified.length, 1)
    assert.equal(verified[0]!.name, 'example.com/foo')
    assert.equal(verified[0]!.keyId, 0x530d903a)
    assert.equal(formatNote(note), ex.note)
    // The same bytes as UTF-8 input.
    assert.equal(openNote(utf8(ex.note), [noteVerifierFromVkey(ex.vkey)]).verified.length, 1)
  })

  it('reproduces Go sumdb/note PeterNeumann signature byte for byte and rejects tampering', () => {
    const signer = noteSignerFromSkey(GO.skey)
    assert.equal(signer.keyId, 0xc74f20a3)
    const msg = formatNote(signNote(GO.text, [signer]))
    assert.equal(msg, `${GO.text}\n${GO.line}`)
    assert.equal(openNote(msg, [noteVerifierFromVkey(GO.vkey)]).note.text, GO.text)
    assert.throws(() => openNote(msg.replace('cryptography', 'cryptographY'), [noteVerifierFromVkey(GO.vkey)]), code('BAD_SIGNATURE'))
  })

  it('computes key IDs as SHA-256(name ‖ 0x0A ‖ type ‖ key)[:4]', () => {
    const pk = portableSignatures.signer('Ed25519', seed(v.log_key_seed_label)).publicKey
    assert.equal(keyId('example.com/scitt-log', NOTE_KEY_TYPE_ED25519, pk), 0x60212eea)
    assert.equal(alice.keyId, aliceV.keyId)
    assert.throws(() => keyId('bad name', 1, pk), RangeError)
    assert.throws(() => keyId('ok', 256, pk), RangeError)
  })

  it('splits at the LAST blank line and keeps blank lines in the text', () => {
    const note = parseNote(SIGNED)
    assert.equal(note.text, TEXT)
    assert.deepEqual(note.signatures.map((s) => s.name), ['alice.example', 'bob.example'])
    assert.equal(formatNote(note), SIGNED)
    const { verified } = openNote(SIGNED, [aliceV, bobV])
    assert.equal(verified.length, 2)
  })

  it('applies the verifier rules: unknown keys ignored, a bad known signature or none at all rejected', () => {
    // Only alice known: bob ignored.
    assert.deepEqual(openNote(SIGNED, [aliceV]).verified.map((s) => s.name), ['alice.example'])
    // Unknown signatures only.
    const other = ed25519NoteVerifier('carol.example', portableSignatures.signer('Ed25519', seed('carol')).publicKey)
    assert.throws(() => openNote(SIGNED, [other]), (e) => isScittError(e, 'BAD_SIGNATURE') && e.details?.reason === 'no-known-signature')
    assert.throws(() => openNote(SIGNED, []), code('BAD_SIGNATURE'))
    // A known key whose signature fails rejects the note even if another verifies.
    const forged: Note = parseNote(SIGNED)
    forged.signatures[1] = { ...forged.signatures[1]!, signature: forged.signatures[0]!.signature }
    assert.throws(() => verifyNote(forged, [aliceV, bobV]), (e) => isScittError(e, 'BAD_SIGNATURE') && e.details?.reason === 'invalid-signature')
    // Same name, other key ID: unknown, so ignored.
    const wrongId: NoteVerifier = { ...bobV, keyId: (bobV.keyId + 1) % 2 ** 32, verify: () => false }
    assert.equal(openNote(SIGNED, [aliceV, wrongId]).verified.length, 1)
    // Two verifiers with one (name, key ID): either may verify.
    const decoy: NoteVerifier = { name: aliceV.name, keyId: aliceV.keyId, verify: () => false }
    assert.equal(openNote(SIGNED, [decoy, aliceV]).verified.length, 1)
  })

  it('accepts exactly MAX_NOTE_SIGNATURES signatures and refuses more (TOO_LARGE)', () => {
    const lines = (n: number): string => Array.from({ length: n }, (_, i) => `— k${i} AAAAAAA=\n`).join('')
    assert.equal(MAX_NOTE_SIGNATURES, 100)
    assert.equal(parseNote(`t\n\n${lines(100)}`).signatures.length, 100)
    assert.throws(() => parseNote(`t\n\n${lines(101)}`), code('TOO_LARGE'))
  })

  it('enforces MAX_NOTE_SIZE in bytes (TOO_LARGE), for strings and bytes', () => {
    const line = GO.line
    const fill = (n: number): string => `${'a'.repeat(n)}\n\n${line}`
    const base = utf8(fill(0)).length
    assert.equal(parseNote(fill(MAX_NOTE_SIZE - base)).text.length, MAX_NOTE_SIZE - base + 1)
    assert.throws(() => parseNote(fill(MAX_NOTE_SIZE - base + 1)), code('TOO_LARGE'))
    assert.throws(() => parseNote(utf8(fill(MAX_NOTE_SIZE - base + 1))), code('TOO_LARGE'))
    // Multi-byte characters count as their UTF-8 length.
    const wide = `${'é'.repeat(Math.ceil(MAX_NOTE_SIZE / 2))}\n\n${line}`
    assert.ok(wide.length < MAX_NOTE_SIZE)
    assert.throws(() => parseNote(wide), code('TOO_LARGE'))
  })

  const bad: Array<[string, string | Uint8Array]> = [
    ['no blank line', `${GO.text}${GO.line}`],
    ['empty input', ''],
    ['no signature lines', `${GO.text}\n`],
    ['signature block without final newline', `${GO.text}\n${GO.line.slice(0, -1)}`],
    ['trailing blank line', `${GO.text}\n${GO.line}\n`],
    ['hyphen instead of em dash', `${GO.text}\n${GO.line.replace('—', '-')}`],
    ['en dash instead of em dash', `${GO.text}\n${GO.line.replace('—', '–')}`],
    ['no space after dash', `${GO.text}\n${GO.line.replace('— ', '—')}`],
    ['two spaces after the name', `${GO.text}\n${GO.line.replace('PeterNeumann ', 'PeterNeumann  ')}`],
    ['empty name', `${GO.text}\n— ${GO.line.slice(14)}`],
    ['name with +', `${GO.text}\n${GO.line.replace('PeterNeumann', 'Peter+Neumann')}`],
    ['name with NBSP', `${GO.text}\n${GO.line.replace('PeterNeumann', 'Peter\u00a0Neumann')}`],
    ['name with U+2003', `${GO.text}\n${GO.line.replace('PeterNeumann', 'Peter\u2003Neumann')}`],
    ['base64 without padding', `${GO.text}\n${GO.line.replace('AM=\n', 'AM\n')}`],
    ['base64url alphabet', `${GO.text}\n${GO.line.replace('x08go/', 'x08go_')}`],
    ['base64 with trailing space', `${GO.text}\n${GO.line.replace('\n', ' \n')}`],
    ['signature of 4 bytes', `${GO.text}\n— PeterNeumann x08go/w==\n`],
    ['no base64', `${GO.text}\n— PeterNeumann\n`],
    ['carriage return', `${GO.text.replace('\n', '\r\n')}\n${GO.line}`],
    ['tab', `${GO.text.replace(' ', '\t')}\n${GO.line}`],
    ['NUL', `${GO.text.replace(' ', '\0')}\n${GO.line}`],
    ['lone surrogate', `${GO.text.replace(' ', '\ud800')}\n${GO.line}`],
    ['invalid UTF-8', Uint8Array.of(0x61, 0xff, 0x0a, 0x0a, ...utf8(GO.line))],
    ['overlong UTF-8', Uint8Array.of(0x61, 0xc0, 0xaf, 0x0a, 0x0a, ...utf8(GO.line))],
    ['duplicate signature', `${GO.text}\n${GO.line}${GO.line}`],
  ]
  for (const [what, input] of bad) {
    it(`rejects a note with ${what} (MALFORMED)`, () => {
      assert.throws(() => parseNote(input), code('MALFORMED'))
    })
  }

  it('rejects duplicate signatures from one key in openNote (MALFORMED)', () => {
    assert.throws(() => openNote(`${GO.text}\n${GO.line}${GO.line}`, [noteVerifierFromVkey(GO.vkey)]), code('MALFORMED'))
  })

  it('validates key names like Go (no Unicode space, no +, non-empty)', () => {
    for (const ok of ['a', 'example.com/log', 'Ünïcødé', 'a\u200bb' /* ZWSP is not White_Space */]) assert.ok(isValidKeyName(ok), ok)
    for (const no of ['', 'a b', 'a+b', 'a\u0085b', 'a\u00a0b', 'a\u3000b', 'a\u2028b', 'a\nb', 'a\tb', 'a\u0001b', 42]) {
      assert.ok(!isValidKeyName(no), JSON.stringify(no))
    }
  })

  it('refuses to format or sign what the parser would reject (RangeError)', () => {
    assert.throws(() => signNote('no newline', [alice]), RangeError)
    assert.throws(() => signNote('bad\rtext\n', [alice]), RangeError)
    assert.throws(() => signNote('x\n', []), RangeError)
    assert.throws(() => signNote('x\n', [alice, alice]), RangeError)
    assert.throws(() => formatNote({ text: 'x\n', signatures: [] }), RangeError)
    assert.throws(() => formatSignatureLine({ name: 'a b', keyId: 1, signature: new Uint8Array(1) }), RangeError)
    assert.throws(() => formatSignatureLine({ name: 'a', keyId: 2 ** 32, signature: new Uint8Array(1) }), RangeError)
    assert.throws(() => formatSignatureLine({ name: 'a', keyId: 1, signature: new Uint8Array(0) }), RangeError)
  })

  const nameArb = fc.stringMatching(/^[A-Za-z0-9./:_é-]{1,20}$/)
  const textArb = fc.array(fc.stringMatching(/^[^\u0000-\u001f\ud800-\udfff]{0,30}$/), { minLength: 1, maxLength: 6 })
    .map((lines) => lines.join('\n') + '\n')
  const sigArb = fc.record({ name: nameArb, keyId: fc.integer({ min: 0, max: 2 ** 32 - 1 }), signature: fc.uint8Array({ minLength: 1, maxLength: 80 }) })

  it('round-trips format → parse for arbitrary notes (property)', () => {
    fc.assert(fc.property(textArb, fc.uniqueArray(sigArb, { minLength: 1, maxLength: 5, selector: (s) => `${s.name} ${s.keyId}` }), (text, signatures) => {
      const formatted = formatNote({ text, signatures })
      const parsed = parseNote(formatted)
      assert.equal(parsed.text, text)
      assert.deepEqual(parsed.signatures, signatures.map((s) => ({ ...s })))
      assert.equal(formatNote(parsed), formatted)
    }), { numRuns: 200 })
  })

  it('never throws anything but a ScittError on mutated notes (property)', () => {
    const base = utf8(SIGNED)
    fc.assert(fc.property(fc.array(fc.tuple(fc.nat(base.length - 1), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 4 }), (edits) => {
      const bytes = base.slice()
      for (const [i, b] of edits) bytes[i] = b
      try {
        openNote(bytes, [aliceV, bobV])
      } catch (e) {
        assert.ok(isScittError(e), String(e))
      }
    }), { numRuns: 300 })
  })
})
