import assert from 'node:assert/strict'
import { portableSignatures, SIGNATURE_ALGORITHMS, utf8, isScittError } from '@scitt/core'
import { nodeSignatures } from '@scitt/node-crypto'

describe('node:crypto signature provider', () => {
  for (const alg of SIGNATURE_ALGORITHMS) {
    it(`${alg}: interoperates with the portable provider both ways`, () => {
      const message = utf8(`hello ${alg}`)
      for (const [a, b] of [[nodeSignatures, portableSignatures], [portableSignatures, nodeSignatures]] as const) {
        const sk = a.generateSecretKey(alg)
        const signer = a.signer(alg, sk)
        const sameSigner = b.signer(alg, sk)
        assert.deepEqual(signer.publicKey, sameSigner.publicKey, 'both derive the same public key')
        const sig = signer.sign(message)
        const verifier = b.verifier(alg, signer.publicKey)
        assert.equal(verifier.verify(message, sig), true)
        assert.equal(verifier.verify(utf8('other'), sig), false)
        const flipped = sig.slice()
        flipped[5]! ^= 1
        assert.equal(verifier.verify(message, flipped), false)
        assert.equal(verifier.verify(message, sig.subarray(1)), false, 'wrong length is false, not a throw')
      }
    })
  }

  it('rejects keys of the wrong length and invalid points', () => {
    assert.throws(() => nodeSignatures.verifier('Ed25519', new Uint8Array(31)), RangeError)
    const notAPoint = new Uint8Array(65)
    notAPoint[0] = 4
    assert.throws(() => nodeSignatures.verifier('ES256', notAPoint), (e) => isScittError(e, 'MALFORMED'))
  })
})

describe('node:crypto SHA-256 for core', () => {
  it('gives core the same hashes as the portable implementation', async () => {
    const { leafHash, nodeHash, setSha256, keyId, toHex } = await import('@scitt/core')
    const { nodeSha256 } = await import('@scitt/node-crypto')
    const entry = utf8('an entry')
    const before = [leafHash(entry), nodeHash(leafHash(entry), leafHash(new Uint8Array(0))), keyId('example.com/log', 1, new Uint8Array(32))]
    const previous = setSha256(nodeSha256)
    try {
      const after = [leafHash(entry), nodeHash(leafHash(entry), leafHash(new Uint8Array(0))), keyId('example.com/log', 1, new Uint8Array(32))]
      assert.deepEqual(after.slice(0, 2).map((h) => toHex(h as Uint8Array)), before.slice(0, 2).map((h) => toHex(h as Uint8Array)))
      assert.equal(after[2], before[2])
      assert.equal(Object.getPrototypeOf(after[0]), Uint8Array.prototype, 'plain Uint8Arrays, not Buffers')
    } finally {
      setSha256(previous)
    }
  })

  it('refuses an implementation that is not SHA-256', async () => {
    const { setSha256, leafHash, toHex } = await import('@scitt/core')
    const before = toHex(leafHash(utf8('x')))
    assert.throws(() => setSha256(() => new Uint8Array(32)), TypeError)
    assert.equal(toHex(leafHash(utf8('x'))), before, 'the implementation in use is unchanged')
  })
})
