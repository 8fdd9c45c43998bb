import assert from 'node:assert/strict'
import {
  coseKeyFromJwk, coseKeyThumbprint, decodeCbor, decodeCoseKey, decodeCoseKeySet, decodeProblemDetails, encodeCbor,
  encodeCoseKey, encodeCoseKeySet, encodeProblemDetails, fromHex, isScittError, MEDIA_TYPE, portableSignatures,
  toBase64Url, toHex, utf8, type CborValue, type CoseKey, type ErrorCode,
} from '@scitt/core'

function fails (fn: () => unknown, code: ErrorCode, what?: string): void {
  assert.throws(fn, (e: unknown) => isScittError(e, code), what)
}

// RFC 9679 §6 example key (EC2 P-256).
const X = '65eda5a12577c2bae829437fe338701a10aaa375e1bb5b5de108de439c08551d'
const Y = '1e52ed75701163f7f9e40ddf9f341b3dc9ba860af7e0ca7ca7e9eecd0084d19c'
const THUMBPRINT = '496bd8afadf307e5b08c64b0421bf9dc01528a344a43bda88fadd1669da253ec'

const ed = portableSignatures.signer('Ed25519', new Uint8Array(32).fill(1))
const p256 = portableSignatures.signer('ES256', new Uint8Array(32).fill(1))
const p384 = portableSignatures.signer('ES384', new Uint8Array(48).fill(1))

describe('cose/key', () => {
  it('reproduces the RFC 9679 thumbprint example', () => {
    const key = decodeCoseKey(fromHex('a501022001215820' + X + '225820' + Y + '025820' + THUMBPRINT))
    assert.equal(key.algorithm, 'ES256')
    assert.equal(toHex(key.publicKey), '04' + X + Y)
    assert.equal(toHex(key.kid!), THUMBPRINT)
    assert.equal(toHex(coseKeyThumbprint(key)), THUMBPRINT)
    // kid and alg do not change the thumbprint.
    assert.equal(toHex(coseKeyThumbprint({ algorithm: 'ES256', publicKey: key.publicKey })), THUMBPRINT)
  })

  it('round-trips OKP and EC2 keys deterministically', () => {
    for (const signer of [ed, p256, p384]) {
      const key: CoseKey = { algorithm: signer.algorithm, publicKey: signer.publicKey, kid: coseKeyThumbprint({ algorithm: signer.algorithm, publicKey: signer.publicKey }) }
      const bytes = encodeCoseKey(key)
      assert.deepEqual(decodeCoseKey(bytes), key)
      assert.deepEqual(decodeCbor(bytes, { deterministic: true }), decodeCbor(bytes))
      assert.deepEqual(decodeCoseKey(encodeCoseKey({ algorithm: signer.algorithm, publicKey: signer.publicKey })), { algorithm: signer.algorithm, publicKey: signer.publicKey })
    }
    assert.equal(toHex(encodeCoseKey({ algorithm: 'Ed25519', publicKey: ed.publicKey })), 'a4' + '0101' + '0327' + '2006' + '215820' + toHex(ed.publicKey))
  })

  it('decodes strictly', () => {
    const ok = (): Map<number, CborValue> => new Map<number, CborValue>([[1, 2], [-1, 1], [-2, fromHex(X)], [-3, fromHex(Y)]])
    const table: Array<[string, (k: Map<number, CborValue>) => void, ErrorCode]> = [
      ['RSA', (k) => k.set(1, 3), 'UNSUPPORTED'],
      ['symmetric', (k) => k.set(1, 4), 'UNSUPPORTED'],
      ['no kty', (k) => k.delete(1), 'MALFORMED'],
      ['no crv', (k) => k.delete(-1), 'MALFORMED'],
      ['P-521', (k) => k.set(-1, 3), 'UNSUPPORTED'],
      ['OKP with an EC curve', (k) => k.set(1, 1), 'UNSUPPORTED'],
      ['compressed point', (k) => k.set(-3, true), 'UNSUPPORTED'],
      ['private key', (k) => k.set(-4, new Uint8Array(32)), 'MALFORMED'],
      ['short x', (k) => k.set(-2, fromHex(X).subarray(1)), 'MALFORMED'],
      ['missing y', (k) => k.delete(-3), 'MALFORMED'],
      ['not on the curve', (k) => k.set(-3, fromHex(X)), 'MALFORMED'],
      ['alg mismatch', (k) => k.set(3, -35), 'MALFORMED'],
      ['unknown alg', (k) => k.set(3, -999), 'UNSUPPORTED'],
      ['kid not bstr', (k) => k.set(2, 'kid'), 'MALFORMED'],
    ]
    for (const [name, edit, code] of table) {
      const k = ok()
      edit(k)
      fails(() => decodeCoseKey(encodeCbor(k)), code, name)
    }
    fails(() => decodeCoseKey(encodeCbor(new Map<number, CborValue>([[1, 1], [-1, 6], [-2, ed.publicKey], [-3, ed.publicKey]]))), 'MALFORMED', 'OKP with y')
    fails(() => decodeCoseKey(encodeCbor([1, 2])), 'MALFORMED')
    assert.equal(decodeCoseKey(encodeCbor(new Map<number, CborValue>([...ok(), [4, [2]], [-70000, 'ext']]))).algorithm, 'ES256')
  })

  it('encodes key sets and skips unsupported keys when decoding them', () => {
    const keys: CoseKey[] = [ed, p256, p384].map((s) => ({ algorithm: s.algorithm, publicKey: s.publicKey, kid: utf8(s.algorithm) }))
    const set = encodeCoseKeySet(keys)
    assert.deepEqual(decodeCoseKeySet(set), keys)
    const rsa = new Map<number, CborValue>([[1, 3], [-1, new Uint8Array(256)], [-2, fromHex('010001')]])
    const mixed = encodeCbor([rsa, decodeCbor(encodeCoseKey(keys[0]!))])
    assert.deepEqual(decodeCoseKeySet(mixed), [keys[0]])
    fails(() => decodeCoseKeySet(encodeCbor([new Map<number, CborValue>([[1, 1], [-1, 6], [-2, new Uint8Array(31)]])])), 'MALFORMED')
    fails(() => decodeCoseKeySet(encodeCbor(new Map())), 'MALFORMED')
  })

  it('imports public JWKs strictly', () => {
    assert.deepEqual(coseKeyFromJwk({ kty: 'OKP', crv: 'Ed25519', x: toBase64Url(ed.publicKey) }), { algorithm: 'Ed25519', publicKey: ed.publicKey })
    for (const s of [p256, p384]) {
      const n = (s.publicKey.length - 1) / 2
      const jwk = { kty: 'EC', crv: s.algorithm === 'ES256' ? 'P-256' : 'P-384', x: toBase64Url(s.publicKey.subarray(1, 1 + n)), y: toBase64Url(s.publicKey.subarray(1 + n)), alg: s.algorithm }
      assert.deepEqual(coseKeyFromJwk(jwk), { algorithm: s.algorithm, publicKey: s.publicKey })
    }
    const x = toBase64Url(fromHex(X))
    const y = toBase64Url(fromHex(Y))
    const table: Array<[string, object, ErrorCode]> = [
      ['RSA', { kty: 'RSA', crv: 'P-256', x, y }, 'UNSUPPORTED'],
      ['kty/crv mismatch', { kty: 'OKP', crv: 'P-256', x, y }, 'UNSUPPORTED'],
      ['X25519', { kty: 'OKP', crv: 'X25519', x }, 'UNSUPPORTED'],
      ['prototype crv', { kty: 'EC', crv: 'toString', x, y }, 'UNSUPPORTED'],
      ['private', { kty: 'EC', crv: 'P-256', x, y, d: x }, 'MALFORMED'],
      ['padded base64url', { kty: 'EC', crv: 'P-256', x: x + '=', y }, 'MALFORMED'],
      ['standard base64 alphabet', { kty: 'EC', crv: 'P-256', x: '+' + x.slice(1), y }, 'MALFORMED'],
      ['short x', { kty: 'EC', crv: 'P-256', x: toBase64Url(fromHex(X).subarray(1)), y }, 'MALFORMED'],
      ['missing y', { kty: 'EC', crv: 'P-256', x }, 'MALFORMED'],
      ['off curve', { kty: 'EC', crv: 'P-256', x, y: x }, 'MALFORMED'],
      ['alg mismatch', { kty: 'EC', crv: 'P-256', x, y, alg: 'ES384' }, 'MALFORMED'],
    ]
    for (const [name, jwk, code] of table) fails(() => coseKeyFromJwk(jwk as never), code, name)
  })
})

describe('cose/problem-details', () => {
  it('encodes and decodes concise problem details (RFC 9290)', () => {
    const bytes = encodeProblemDetails({ title: 'Bad Signature Algorithm', detail: 'alg -9 is not supported' })
    assert.equal(toHex(bytes), 'a2' + '20' + '77' + toHex(utf8('Bad Signature Algorithm')) + '21' + '77' + toHex(utf8('alg -9 is not supported')))
    assert.deepEqual(decodeProblemDetails(bytes), { title: 'Bad Signature Algorithm', detail: 'alg -9 is not supported' })
    const full = { title: 'Not Found', detail: 'no such entry', instance: 'https://ts.example/entries/1', responseCode: 404 }
    assert.deepEqual(decodeProblemDetails(encodeProblemDetails(full)), full)
    assert.deepEqual(decodeProblemDetails(encodeCbor(new Map<number | string, CborValue>([[-1, 't'], [7, 'custom'], ['x', 1]]))), { title: 't' })
    fails(() => decodeProblemDetails(encodeCbor(new Map([[-1, 5]]))), 'MALFORMED')
    fails(() => decodeProblemDetails(encodeCbor(new Map([[-4, 99]]))), 'MALFORMED')
    fails(() => decodeProblemDetails(encodeCbor(['t'])), 'MALFORMED')
    assert.throws(() => encodeProblemDetails({ responseCode: 42 }), RangeError)
    assert.equal(MEDIA_TYPE.problemDetails, 'application/concise-problem-details+cbor')
    assert.deepEqual(MEDIA_TYPE, {
      cose: 'application/cose', scittStatement: 'application/scitt-statement+cose', scittReceipt: 'application/scitt-receipt+cose',
      cbor: 'application/cbor', problemDetails: 'application/concise-problem-details+cbor',
    })
  })
})
