import assert from 'node:assert/strict'
import { didKeyFromPublicKey, isDidKey, portableSignatures, publicKeyFromDidKey } from '@scitt/core'

describe('did:key', () => {
  it('decodes the W3C did:key examples and re-encodes them exactly', () => {
    for (const [did, algorithm] of [
      ['did:key:z6MkiTBz1ymuepAQ4HEHYSF1H8quG5GLVVQR3djdX3mDooWp', 'Ed25519'],
      ['did:key:zDnaerDaTF5BXEavCrfRZEk316dpbLsfPDZ3WJ5hRTPFU2169', 'ES256'],
    ] as const) {
      const key = publicKeyFromDidKey(did)
      assert.equal(key.algorithm, algorithm)
      assert.equal(key.publicKey.length, algorithm === 'Ed25519' ? 32 : 65)
      assert.equal(didKeyFromPublicKey(key.algorithm, key.publicKey), did)
      portableSignatures.verifier(key.algorithm, key.publicKey) // a valid key for the provider
      assert.ok(isDidKey(did))
    }
  })

  it('round-trips fresh keys, and the did:key verifies the key\'s signatures', () => {
    for (const alg of ['Ed25519', 'ES256'] as const) {
      const signer = portableSignatures.signer(alg, portableSignatures.generateSecretKey(alg))
      const back = publicKeyFromDidKey(didKeyFromPublicKey(alg, signer.publicKey))
      const message = new Uint8Array([1, 2, 3])
      assert.equal(portableSignatures.verifier(back.algorithm, back.publicKey).verify(message, signer.sign(message)), true)
    }
  })

  it('rejects malformed and unsupported identifiers with a code', () => {
    const cases: Array<[string, string]> = [
      ['did:key:z0OIl', 'MALFORMED'], // not base58btc
      ['did:web:example.com', 'MALFORMED'],
      ['did:key:m6MkiTBz1ymuepAQ4HEHYSF1H8quG5GLVVQR3djdX3mDooWp', 'MALFORMED'], // not base58btc multibase
      ['did:key:z' + '1'.repeat(130), 'MALFORMED'],
      ['did:key:zQ3shokFTS3brHcDQrn82RUDfCZESWL1ZdCEJwekUDPQiYBme', 'UNSUPPORTED'], // secp256k1
    ]
    for (const [did, code] of cases) assert.throws(() => publicKeyFromDidKey(did), { code }, did)
    assert.throws(() => didKeyFromPublicKey('ES384', new Uint8Array(97)), { code: 'UNSUPPORTED' })
  })
})
