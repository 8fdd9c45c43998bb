import assert from 'node:assert/strict'
import {
  NOTE_KEY_TYPE_COSIGNATURE_V1, NOTE_KEY_TYPE_ED25519,
  cosignatureSignerFromSkey, formatSkey, formatVkey, isScittError, noteSignerFromSkey, noteVerifierFromVkey,
  parseSkey, parseVkey, portableSignatures, sha256Digest, toBase64, toHex, utf8, vkeyFromSkey,
} from '@scitt/core'
import { loadVector } from '../../../../test/fixtures.js'

const v = loadVector('c2sp-notes')
const code = (c: string) => (e: unknown) => isScittError(e, c as never)
const logSeed = sha256Digest(utf8(v.log_key_seed_label))
const witnessSeed = sha256Digest(utf8(v.witness_key_seed_label))
const logPub = portableSignatures.signer('Ed25519', logSeed).publicKey
const witnessPub = portableSignatures.signer('Ed25519', witnessSeed).publicKey

describe('note/vkey', () => {
  it('derives the fixture log keys from the seed', () => {
    assert.equal(toHex(logSeed), v.log_seed_hex)
    assert.equal(toHex(logPub), v.log_pub_hex)
    assert.equal(formatVkey('example.com/scitt-log', NOTE_KEY_TYPE_ED25519, logPub), v.log_vkey)
    assert.equal(formatSkey('example.com/scitt-log', logSeed), v.log_skey)
    assert.equal(vkeyFromSkey(v.log_skey), v.log_vkey)
    assert.deepEqual(parseSkey(v.log_skey), { name: 'example.com/scitt-log', keyId: 0x60212eea, seed: logSeed })
    assert.equal(noteSignerFromSkey(v.log_skey).keyId, 0x60212eea)
  })

  it('derives the fixture witness vkey (type 0x04)', () => {
    assert.equal(formatVkey('witness.example/w1', NOTE_KEY_TYPE_COSIGNATURE_V1, witnessPub), v.witness_vkey)
    const parsed = parseVkey(v.witness_vkey)
    assert.deepEqual(parsed, { name: 'witness.example/w1', keyId: 0x16416551, type: 4, publicKey: witnessPub })
    // The witness's skey is an ordinary Ed25519 skey; its cosigner has the 0x04 key ID.
    const skey = formatSkey('witness.example/w1', witnessSeed)
    assert.equal(cosignatureSignerFromSkey(skey, () => 1).keyId, 0x16416551)
  })

  it('parses vkeys (the base64 part may contain "+") and builds the matching verifier', () => {
    assert.deepEqual(parseVkey(v.log_vkey), { name: 'example.com/scitt-log', keyId: 0x60212eea, type: 1, publicKey: logPub })
    const log = noteVerifierFromVkey(v.log_vkey)
    assert.equal(log.name, 'example.com/scitt-log')
    assert.equal(log.keyId, 0x60212eea)
    const witness = noteVerifierFromVkey(v.witness_vkey)
    assert.equal(witness.keyId, 0x16416551)
    assert.equal(witness.verify(utf8('x\n'), new Uint8Array(72)), false)
  })

  const [name, hex, key] = [v.log_vkey.split('+')[0], '60212eea', v.log_vkey.slice(v.log_vkey.indexOf('+', 22) + 1)]
  const typed = (type: number, bytes: Uint8Array): string => toBase64(Uint8Array.of(type, ...bytes))
  const badVkeys: Array<[string, string, string]> = [
    ['empty', '', 'MALFORMED'],
    ['no separators', 'abc', 'MALFORMED'],
    ['one separator', `${name}+${hex}`, 'MALFORMED'],
    ['empty name', `+${hex}+${key}`, 'MALFORMED'],
    ['name with space', `a b+${hex}+${key}`, 'MALFORMED'],
    ['uppercase hex', `${name}+60212EEA+${key}`, 'MALFORMED'],
    ['7 hex digits', `${name}+0212eea+${key}`, 'MALFORMED'],
    ['9 hex digits', `${name}+060212eea+${key}`, 'MALFORMED'],
    ['wrong key ID', `${name}+60212eeb+${key}`, 'MALFORMED'],
    ['other name', `example.com/other+${hex}+${key}`, 'MALFORMED'],
    ['bad base64', `${name}+${hex}+${key.slice(0, -1)}`, 'MALFORMED'],
    ['empty key', `${name}+${hex}+`, 'MALFORMED'],
    ['short key', `${name}+${hex}+${typed(1, logPub.subarray(1))}`, 'MALFORMED'],
    ['long key', `${name}+${hex}+${typed(1, Uint8Array.of(...logPub, 0))}`, 'MALFORMED'],
    ['type 0x02 (ECDSA)', `${name}+${hex}+${typed(2, logPub)}`, 'UNSUPPORTED'],
    ['type 0x06 (ML-DSA-44)', `${name}+${hex}+${typed(6, logPub)}`, 'UNSUPPORTED'],
    ['type 0xff', `${name}+${hex}+${typed(0xff, logPub)}`, 'UNSUPPORTED'],
    ['huge', `${name}+${hex}+${'A'.repeat(5000)}`, 'TOO_LARGE'],
  ]
  for (const [what, vkey, expected] of badVkeys) {
    it(`rejects a vkey with ${what} (${expected})`, () => {
      assert.throws(() => parseVkey(vkey), code(expected))
      assert.throws(() => noteVerifierFromVkey(vkey), code(expected))
    })
  }

  const skeyBody = v.log_skey.slice('PRIVATE+KEY+'.length)
  const badSkeys: Array<[string, string, string]> = [
    ['no prefix', skeyBody, 'MALFORMED'],
    ['lowercase prefix', `private+key+${skeyBody}`, 'MALFORMED'],
    ['wrong key ID', v.log_skey.replace('60212eea', '60212eeb'), 'MALFORMED'],
    ['a vkey-style ID of another name', v.log_skey.replace('example.com/scitt-log', 'example.com/other'), 'MALFORMED'],
    ['short seed', `PRIVATE+KEY+example.com/scitt-log+60212eea+${typed(1, logSeed.subarray(1))}`, 'MALFORMED'],
    ['type 0x04 seed', `PRIVATE+KEY+example.com/scitt-log+60212eea+${typed(4, logSeed)}`, 'UNSUPPORTED'],
  ]
  for (const [what, skey, expected] of badSkeys) {
    it(`rejects an skey with ${what} (${expected})`, () => {
      assert.throws(() => parseSkey(skey), code(expected))
    })
  }

  it('does not put the secret key in error messages', () => {
    const bad = v.log_skey.replace('60212eea', '60212eeb')
    assert.throws(() => parseSkey(bad), (e: Error) => !e.message.includes(bad.slice(-20)))
  })
})
