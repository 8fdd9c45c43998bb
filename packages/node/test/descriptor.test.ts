/** The announce descriptor (federation/descriptor.ts): strict text format, signed by the origin's log key. */
import assert from 'node:assert/strict'
import { ed25519NoteSigner, ed25519NoteVerifier, isScittError, sha256Digest, utf8 } from '@scitt/core'
import { nodeSignatures } from '@scitt/node-crypto'
import { formatDescriptorText, openDescriptor, parseDescriptorText, signDescriptor, type Descriptor } from '../src/federation/descriptor.js'

const ORIGIN = 'iot.example/log'
const seed = sha256Digest(utf8('descriptor test'))
const signer = ed25519NoteSigner(ORIGIN, seed, nodeSignatures)
const verifier = ed25519NoteVerifier(ORIGIN, nodeSignatures.signer('Ed25519', seed).publicKey, nodeSignatures)
const d: Descriptor = {
  origin: ORIGIN,
  peer: '12D3KooWExample',
  addrs: ['/ip4/127.0.0.1/tcp/4001'],
  http: 'http://127.0.0.1:8080',
  sector: 'iot',
  mirrors: ['firmware.example/log', 'containers.example/log'],
  roles: ['witness', 'mirror'],
  time: 1700000000,
}

describe('announce descriptor', () => {
  it('round-trips the mirror lines, signed by the origin\'s key', () => {
    const text = formatDescriptorText(d)
    assert.match(text, /\nsector iot\nmirror firmware\.example\/log\nmirror containers\.example\/log\nroles witness,mirror\n/)
    assert.deepEqual(parseDescriptorText(text), d)
    assert.deepEqual(openDescriptor(utf8(signDescriptor(d, signer)), () => [verifier]), d)
    const { mirrors: _, ...without } = d
    assert.deepEqual(parseDescriptorText(formatDescriptorText(without)), without, 'no mirror lines: no mirrors field')
  })

  it('rejects bad, misplaced or too many mirror lines', () => {
    const text = formatDescriptorText(d)
    for (const bad of [
      text.replace('mirror firmware.example/log', 'mirror bad origin'),
      text.replace('mirror firmware.example/log', 'mirror '),
      text.replace('sector iot\nmirror firmware.example/log', 'mirror firmware.example/log\nsector iot'),
      formatDescriptorText({ ...d, mirrors: Array.from({ length: 65 }, (_, i) => `o${i}.example/log`) }),
    ]) {
      assert.throws(() => parseDescriptorText(bad), (err: unknown) => isScittError(err, 'MALFORMED'))
    }
  })
})
