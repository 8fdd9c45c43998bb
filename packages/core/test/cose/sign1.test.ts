import assert from 'node:assert/strict'
import {
  coseAlgorithm, decodeSign1, encodeCbor, encodeSign1, fromHex, isScittError, portableSignatures, sigStructure,
  signatureAlgorithmFromCose, signSign1, Tagged, toHex, utf8, verifySign1,
  type CborValue, type ErrorCode, type HeaderMap, type SignatureAlgorithm,
} from '@scitt/core'

function fails (fn: () => unknown, code: ErrorCode, what?: string): void {
  assert.throws(fn, (e: unknown) => isScittError(e, code), what)
}

const keys = (algorithm: SignatureAlgorithm, fill: number): { signer: ReturnType<typeof portableSignatures.signer>, verifier: ReturnType<typeof portableSignatures.verifier> } => {
  const signer = portableSignatures.signer(algorithm, new Uint8Array(algorithm === 'ES384' ? 48 : 32).fill(fill))
  return { signer, verifier: portableSignatures.verifier(algorithm, signer.publicKey) }
}

describe('cose/algorithms', () => {
  it('maps COSE alg ids both ways and refuses others', () => {
    assert.deepEqual([coseAlgorithm('Ed25519'), coseAlgorithm('ES256'), coseAlgorithm('ES384')], [-8, -7, -35])
    assert.deepEqual([-8, -7, -35].map(signatureAlgorithmFromCose), ['Ed25519', 'ES256', 'ES384'])
    for (const bad of [-9, -36, -257, 0, 'ES256', -7n, null]) fails(() => signatureAlgorithmFromCose(bad), 'UNSUPPORTED', String(bad))
  })
})

describe('cose/sign1', () => {
  const payload = utf8('hello statement')

  for (const algorithm of ['Ed25519', 'ES256', 'ES384'] as const) {
    it(`signs, encodes, decodes and verifies with ${algorithm}`, () => {
      const { signer, verifier } = keys(algorithm, 7)
      const sign1 = signSign1({ protectedHeader: new Map([[4, utf8('kid')]]), unprotected: new Map([['note', 'x']]), payload }, signer)
      assert.equal(sign1.protectedHeader.get(1), coseAlgorithm(algorithm))
      const bytes = encodeSign1(sign1)
      assert.equal(bytes[0], 0xd2)
      const decoded = decodeSign1(bytes)
      assert.deepEqual(decoded, sign1)
      verifySign1(decoded, verifier)
      // Wrong key of the same algorithm, and a tampered payload.
      fails(() => verifySign1(decoded, keys(algorithm, 9).verifier), 'BAD_SIGNATURE')
      fails(() => verifySign1({ ...decoded, payload: utf8('hello statemenT') }, verifier), 'BAD_SIGNATURE')
      // A verifier for another algorithm.
      const other = algorithm === 'Ed25519' ? keys('ES256', 7).verifier : keys('Ed25519', 7).verifier
      fails(() => verifySign1(decoded, other), 'BAD_SIGNATURE')
    })
  }

  it('signs over a detached payload', () => {
    const { signer, verifier } = keys('Ed25519', 1)
    const sign1 = signSign1({ protectedHeader: new Map(), payload, detached: true }, signer)
    assert.equal(sign1.payload, null)
    const decoded = decodeSign1(encodeSign1(sign1))
    verifySign1(decoded, verifier, payload)
    fails(() => verifySign1(decoded, verifier), 'MALFORMED')
    fails(() => verifySign1(decoded, verifier, utf8('other')), 'BAD_SIGNATURE')
    fails(() => verifySign1({ ...decoded, payload }, verifier, payload), 'MALFORMED')
  })

  it('builds the RFC 9052 Sig_structure', () => {
    assert.equal(toHex(sigStructure(fromHex('a10126'), utf8('x'))), '84' + '6a5369676e617475726531' + '43a10126' + '40' + '4178')
    assert.equal(toHex(sigStructure(new Uint8Array(0), new Uint8Array(0), fromHex('aa'))), '846a5369676e617475726531' + '40' + '41aa' + '40')
  })

  it('refuses an unknown or missing alg, and a signer that does not match alg', () => {
    const { signer, verifier } = keys('Ed25519', 1)
    const base = signSign1({ protectedHeader: new Map(), payload }, signer)
    const withProtected = (header: HeaderMap): ReturnType<typeof decodeSign1> =>
      decodeSign1(encodeSign1({ ...base, protectedBytes: header.size === 0 ? new Uint8Array(0) : encodeCbor(header) }))
    fails(() => verifySign1(withProtected(new Map([[1, -9]])), verifier), 'UNSUPPORTED')
    fails(() => verifySign1(withProtected(new Map([[1, 'EdDSA']])), verifier), 'UNSUPPORTED')
    fails(() => verifySign1(withProtected(new Map()), verifier), 'MALFORMED')
    assert.throws(() => signSign1({ protectedHeader: new Map([[1, -7]]), payload }, signer), TypeError)
    assert.throws(() => signSign1({ protectedHeader: new Map([[4, utf8('k')]]), unprotected: new Map([[4, utf8('k')]]), payload }, signer), TypeError)
  })

  it('decodes strictly', () => {
    const { signer } = keys('Ed25519', 1)
    const sign1 = signSign1({ protectedHeader: new Map([[4, utf8('k')]]), payload }, signer)
    const good: CborValue[] = [sign1.protectedBytes, new Map(), payload, sign1.signature]
    const table: Array<[string, CborValue, ErrorCode]> = [
      ['untagged', good, 'MALFORMED'],
      ['tag 98', new Tagged(98, good), 'MALFORMED'],
      ['three elements', new Tagged(18, good.slice(0, 3)), 'MALFORMED'],
      ['five elements', new Tagged(18, [...good, null]), 'MALFORMED'],
      ['protected not bstr', new Tagged(18, [new Map(), new Map(), payload, sign1.signature]), 'MALFORMED'],
      ['protected bstr of an array', new Tagged(18, [encodeCbor([1]), new Map(), payload, sign1.signature]), 'MALFORMED'],
      ['protected bstr with trailing bytes', new Tagged(18, [fromHex('a0a0'), new Map(), payload, sign1.signature]), 'MALFORMED'],
      ['unprotected not a map', new Tagged(18, [sign1.protectedBytes, [], payload, sign1.signature]), 'MALFORMED'],
      ['payload a tstr', new Tagged(18, [sign1.protectedBytes, new Map(), 'p', sign1.signature]), 'MALFORMED'],
      ['signature nil', new Tagged(18, [sign1.protectedBytes, new Map(), payload, null]), 'MALFORMED'],
      ['label in both buckets', new Tagged(18, [sign1.protectedBytes, new Map([[4, utf8('k')]]), payload, sign1.signature]), 'MALFORMED'],
      ['huge label', new Tagged(18, [sign1.protectedBytes, new Map([[2n ** 60n, 1]]), payload, sign1.signature]), 'MALFORMED'],
    ]
    for (const [name, value, code] of table) fails(() => decodeSign1(encodeCbor(value)), code, name)
    // An encoded empty map is accepted as an empty protected header (RFC 9052 §3).
    assert.equal(decodeSign1(encodeCbor(new Tagged(18, [fromHex('a0'), new Map(), payload, sign1.signature]))).protectedHeader.size, 0)
    fails(() => decodeSign1(encodeCbor(new Tagged(18, good)), { maxSize: 16 }), 'TOO_LARGE')
  })
})
