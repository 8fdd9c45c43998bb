import assert from 'node:assert/strict'
import { inspect } from 'node:util'
import {
  addReceipts, assembleReceipt, buildStatement, concatBytes, decodeSign1, encodeCbor, encodeSign1, entryBytes, entryId, fromHex,
  getReceipts, isScittError, leafHash, portableSignatures, receiptProtectedHeader, sealCheckpoint, sha256Digest,
  signSign1, Tagged, toHex, utf8, validateStatement, verifyReceipt, verifySign1,
  type CborValue, type ErrorCode, type HeaderMap, type Sign1,
} from '@scitt/core'

function fails (fn: () => unknown, code: ErrorCode, what?: string): void {
  assert.throws(fn, (e: unknown) => isScittError(e, code), what)
}

const signer = portableSignatures.signer('ES256', new Uint8Array(32).fill(3))
const verifier = portableSignatures.verifier('ES256', signer.publicKey)
const kid = utf8('issuer-key-1')
const claims = (iss: CborValue = 'https://issuer.example', sub: CborValue = 'pkg:npm/example@1.0.0'): Map<number, CborValue> =>
  new Map([[1, iss], [2, sub]])

/** A statement signed with exactly these headers. */
function signed (protectedHeader: HeaderMap, unprotected: HeaderMap = new Map(), payload = utf8('{}')): Sign1 {
  return decodeSign1(encodeSign1(signSign1({ protectedHeader, unprotected, payload }, signer)))
}

describe('cose/statement', () => {
  it('builds and validates a plain statement', () => {
    const s = buildStatement({ signer, kid, iss: 'https://issuer.example', sub: 'sbom-1', contentType: 'application/spdx+json', payload: utf8('{"a":1}') })
    verifySign1(s, verifier)
    assert.deepEqual(validateStatement(decodeSign1(encodeSign1(s))), {
      alg: 'ES256', kid, iss: 'https://issuer.example', sub: 'sbom-1', contentType: 'application/spdx+json',
    })
    // {1: -7, 3: ct, 4: kid, 15: {...}} in deterministic order.
    assert.deepEqual([...decodeSign1(encodeSign1(s)).protectedHeader.keys()], [1, 3, 4, 15])
  })

  it('builds and validates a hash envelope (RFC 9995)', () => {
    const artifact = utf8('the artifact')
    const s = buildStatement({
      signer, kid, iss: 'vendor.example', sub: 'vendor.product.example', typ: 'application/example+cose',
      payload: artifact, hashEnvelope: { hashAlg: -16, preimageContentType: 'application/spdx+json', location: 'https://x.example/a' },
    })
    assert.equal(toHex(s.payload!), toHex(sha256Digest(artifact)))
    assert.equal(s.protectedHeader.has(3), false)
    assert.deepEqual(validateStatement(s), {
      alg: 'ES256', kid, iss: 'vendor.example', sub: 'vendor.product.example', typ: 'application/example+cose',
      contentType: 'application/spdx+json',
      hashEnvelope: { hashAlg: -16, preimageContentType: 'application/spdx+json', location: 'https://x.example/a' },
    })
    // A CoAP content-format number is accepted too.
    const coap = signed(new Map<number, CborValue>([[4, kid], [15, claims()], [258, -16], [259, 50]]), new Map(), sha256Digest(artifact))
    assert.equal(validateStatement(coap).contentType, 50)
  })

  it('accepts x5chain or x5t instead of kid', () => {
    const cert = fromHex('3082')
    assert.deepEqual(validateStatement(signed(new Map<number, CborValue>([[33, cert], [15, claims()]]))).x5chain, [cert])
    assert.deepEqual(validateStatement(signed(new Map<number, CborValue>([[33, [cert, cert]], [15, claims()]]))).x5chain, [cert, cert])
    assert.deepEqual(validateStatement(signed(new Map<number, CborValue>([[34, [-16, new Uint8Array(32)]], [15, claims()]]))).x5t, [-16, new Uint8Array(32)])
  })

  it('rejects statements that miss or misplace required headers', () => {
    const ok = (): Map<number, CborValue> => new Map<number, CborValue>([[4, kid], [15, claims()]])
    const table: Array<[string, (p: Map<number, CborValue>, u: Map<number, CborValue>) => void, ErrorCode]> = [
      ['kid in unprotected only', (p, u) => { p.delete(4); u.set(4, kid) }, 'MALFORMED'],
      ['no kid, no x5chain/x5t', (p) => p.delete(4), 'MALFORMED'],
      ['x5chain unprotected only', (p, u) => { p.delete(4); u.set(33, fromHex('3082')) }, 'MALFORMED'],
      ['kid not bstr', (p) => p.set(4, 'issuer-key-1'), 'MALFORMED'],
      ['no CWT claims', (p) => p.delete(15), 'MALFORMED'],
      ['CWT claims unprotected', (p, u) => { p.delete(15); u.set(15, claims()) }, 'MALFORMED'],
      ['CWT claims not a map', (p) => p.set(15, [1, 2]), 'MALFORMED'],
      ['no iss', (p) => p.set(15, new Map([[2, 'sub']])), 'MALFORMED'],
      ['no sub', (p) => p.set(15, new Map([[1, 'iss']])), 'MALFORMED'],
      ['iss not text', (p) => p.set(15, claims(utf8('iss'))), 'MALFORMED'],
      ['sub not text', (p) => p.set(15, claims('iss', 7)), 'MALFORMED'],
      ['empty iss with x5chain', (p) => { p.delete(4); p.set(33, fromHex('3082')); p.set(15, claims('')) }, 'MALFORMED'],
      ['258 unprotected', (p, u) => { u.set(258, -16) }, 'MALFORMED'],
      ['259 unprotected', (p, u) => { p.set(258, -16); u.set(259, 'application/json') }, 'MALFORMED'],
      ['260 unprotected', (p, u) => { p.set(258, -16); u.set(260, 'https://x') }, 'MALFORMED'],
      ['3 with 258', (p) => { p.set(258, -16); p.set(3, 'application/json') }, 'MALFORMED'],
      ['3 unprotected with 258', (p, u) => { p.set(258, -16); u.set(3, 'application/json') }, 'MALFORMED'],
      ['259 without 258', (p) => p.set(259, 'application/json'), 'MALFORMED'],
      ['258 not an int', (p) => p.set(258, 'sha-256'), 'MALFORMED'],
      ['258 unknown', (p) => p.set(258, -999), 'UNSUPPORTED'],
      ['content type a bstr', (p) => p.set(3, utf8('application/json')), 'MALFORMED'],
      ['typ not text', (p) => p.set(16, 1), 'MALFORMED'],
      ['x5chain of one in an array', (p) => p.set(33, [fromHex('3082')]), 'MALFORMED'],
    ]
    for (const [name, edit, code] of table) {
      const p = ok()
      const u = new Map<number, CborValue>()
      edit(p, u)
      fails(() => validateStatement(signed(p, u, p.has(258) ? new Uint8Array(32) : utf8('{}'))), code, name)
    }
    // Missing alg: built by hand since signSign1 always sets it.
    const s = signed(ok())
    const noAlg = ok()
    fails(() => validateStatement({ ...s, protectedBytes: encodeCbor(noAlg), protectedHeader: noAlg }), 'MALFORMED', 'no alg')
    const badAlg = new Map<number, CborValue>([...ok(), [1, -65535]])
    fails(() => validateStatement({ ...s, protectedBytes: encodeCbor(badAlg), protectedHeader: badAlg }), 'UNSUPPORTED', 'unknown alg')
    // A hash envelope payload of the wrong size.
    fails(() => validateStatement(signed(new Map<number, CborValue>([...ok(), [258, -16]]), new Map(), new Uint8Array(31))), 'MALFORMED')
  })

  it('defines entry bytes independently of the unprotected header', () => {
    const p = new Map<number, CborValue>([[4, kid], [15, claims()]])
    const statement = signSign1({ protectedHeader: p, payload: utf8('{}') }, signer)
    const a = encodeSign1({ ...statement, unprotected: new Map() })
    const b = encodeSign1({ ...statement, unprotected: new Map<number | string, CborValue>([[33, fromHex('3082')], ['x', [1, 2, 3]], [394, [utf8('r')]]]) })
    assert.equal(toHex(entryBytes(a)), toHex(a))
    assert.equal(toHex(entryBytes(b)), toHex(a))
    assert.equal(toHex(entryBytes(decodeSign1(b))), toHex(a))
    assert.equal(entryId(entryBytes(b)), toHex(leafHash(a)))
    assert.match(entryId(a), /^[0-9a-f]{64}$/)
    // Non-deterministic unprotected encodings of the same statement collapse to the same entry.
    // unprotected {"x": 1 (non-shortest), 33: h'3082'}: keys out of order
    const loose = concatBytes(fromHex('d284'), encodeCbor(statement.protectedBytes), fromHex('a2' + '61781801' + '1821423082'),
      encodeCbor(statement.payload), encodeCbor(statement.signature))
    assert.equal(toHex(entryBytes(loose)), toHex(a))
    fails(() => entryBytes(a.subarray(1)), 'MALFORMED')
  })
})

describe('cose/transparent-statement', () => {
  const ts = portableSignatures.signer('Ed25519', new Uint8Array(32).fill(5))
  const tsVerifier = portableSignatures.verifier('Ed25519', ts.publicKey)
  const statement = buildStatement({ signer, kid, iss: 'https://issuer.example', sub: 's', contentType: 'text/plain', payload: utf8('hi') })
  const extra: HeaderMap = new Map([[33, fromHex('3082')]])
  const statementBytes = encodeSign1({ ...statement, unprotected: extra })
  const entry = entryBytes(statementBytes)
  const receipt = assembleReceipt(
    sealCheckpoint(receiptProtectedHeader({ alg: 'Ed25519', kid: utf8('ts'), iss: 'ts.example' }), leafHash(entry), ts),
    { treeSize: 1, leafIndex: 0, inclusionPath: [] })

  it('adds receipts as bstr in label 394 and reads them back', () => {
    const transparent = addReceipts(statementBytes, [receipt])
    const decoded = decodeSign1(transparent)
    assert.deepEqual(decoded.protectedBytes, statement.protectedBytes)
    assert.deepEqual(decoded.signature, statement.signature)
    assert.deepEqual(decoded.payload, statement.payload)
    assert.deepEqual(decoded.unprotected.get(33), fromHex('3082'))
    assert.deepEqual(decoded.unprotected.get(394), [receipt])
    verifySign1(decoded, verifier)
    assert.deepEqual(getReceipts(transparent), [receipt])
    assert.equal(toHex(entryBytes(transparent)), toHex(entry))
    assert.equal(verifyReceipt(getReceipts(transparent)[0]!, { entry: entryBytes(transparent) }, tsVerifier).treeSize, 1)
    // Appending keeps the earlier receipts first.
    const twice = addReceipts(transparent, [receipt])
    assert.equal(getReceipts(twice).length, 2)
    assert.deepEqual(getReceipts(statementBytes), [])
  })

  it('accepts unwrapped (tag 18) receipts on input', () => {
    const unwrapped = encodeSign1({ ...statement, unprotected: new Map([[394, [decodeCborTagged(receipt)]]]) })
    assert.deepEqual(getReceipts(unwrapped), [receipt])
    assert.deepEqual(decodeSign1(addReceipts(unwrapped, [receipt])).unprotected.get(394), [receipt, receipt])
  })

  it('rejects malformed receipt arrays and receipts', () => {
    for (const bad of [utf8('r'), new Map(), [1], [new Tagged(18, [1])]] as CborValue[]) {
      fails(() => getReceipts(encodeSign1({ ...statement, unprotected: new Map([[394, bad]]) })), 'MALFORMED', inspect(bad))
    }
    fails(() => addReceipts(statementBytes, [utf8('not a receipt')]), 'MALFORMED')
    assert.throws(() => addReceipts(statementBytes, []), RangeError)
  })
})

function decodeCborTagged (bytes: Uint8Array): Tagged {
  const s = decodeSign1(bytes)
  return new Tagged(18, [s.protectedBytes, s.unprotected, s.payload, s.signature])
}
