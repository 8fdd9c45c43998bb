import assert from 'node:assert/strict'
import fc from 'fast-check'
import {
  addReceipts, buildStatement, decodeCoseKey, decodeProblemDetails, decodeReceipt, decodeSeal, decodeSign1,
  encodeCoseKey, encodeProblemDetails, encodeSeal, encodeSign1, entryBytes, fromHex, getReceipts, isScittError,
  portableSignatures, sealCheckpoint, receiptProtectedHeader, utf8, validateStatement, verifyReceipt,
} from '@scitt/core'
import { loadVector } from '../../../../test/fixtures.js'

const vector = loadVector<{ receipt_hex: string, ts_pub_hex: string, leaf_input_hex: string, ts_seed_hex: string, detached_root_hex: string }>('cose-receipt')
const receipt = fromHex(vector.receipt_hex)
const tsVerifier = portableSignatures.verifier('Ed25519', fromHex(vector.ts_pub_hex))
const signer = portableSignatures.signer('Ed25519', new Uint8Array(32).fill(2))
const statement = encodeSign1(buildStatement({
  signer, kid: utf8('k'), iss: 'https://issuer.example', sub: 's', payload: utf8('artifact'),
  hashEnvelope: { hashAlg: -16, preimageContentType: 'application/json', location: 'https://x.example' },
}))
const transparent = addReceipts(statement, [receipt])
const seal = encodeSeal(sealCheckpoint(receiptProtectedHeader({ alg: 'Ed25519', kid: utf8('k'), iss: 'ts' }), fromHex(vector.detached_root_hex), portableSignatures.signer('Ed25519', fromHex(vector.ts_seed_hex))))

/** Byte-level mutations: overwrite, insert, delete, truncate. */
function mutated (base: Uint8Array): fc.Arbitrary<Uint8Array> {
  const edit = fc.oneof(
    fc.tuple(fc.constant('set' as const), fc.nat(base.length - 1), fc.integer({ min: 0, max: 255 })),
    fc.tuple(fc.constant('insert' as const), fc.nat(base.length), fc.integer({ min: 0, max: 255 })),
    fc.tuple(fc.constant('delete' as const), fc.nat(base.length - 1), fc.constant(0)),
    fc.tuple(fc.constant('truncate' as const), fc.nat(base.length - 1), fc.constant(0)),
  )
  return fc.array(edit, { minLength: 1, maxLength: 4 }).map((edits) => {
    let bytes = Array.from(base)
    for (const [kind, at, byte] of edits) {
      const i = Math.min(at, bytes.length)
      if (kind === 'set' && i < bytes.length) bytes[i] = byte
      else if (kind === 'insert') bytes.splice(i, 0, byte)
      else if (kind === 'delete') bytes.splice(i, 1)
      else if (kind === 'truncate') bytes = bytes.slice(0, i)
    }
    return Uint8Array.from(bytes)
  })
}

function onlyScittErrors (fn: () => unknown): void {
  try {
    fn()
  } catch (e) {
    assert.ok(isScittError(e), `unexpected ${String(e)}`)
  }
}

describe('cose: mutated inputs only ever fail with a ScittError', () => {
  it('statements and transparent statements', () => {
    fc.assert(fc.property(fc.oneof(mutated(statement), mutated(transparent)), (bytes) => {
      onlyScittErrors(() => validateStatement(decodeSign1(bytes)))
      onlyScittErrors(() => entryBytes(bytes))
      onlyScittErrors(() => getReceipts(bytes))
      onlyScittErrors(() => addReceipts(bytes, [receipt]))
    }), { numRuns: 400 })
  })

  it('receipts', () => {
    const entry = fromHex(vector.leaf_input_hex)
    fc.assert(fc.property(mutated(receipt), (bytes) => {
      onlyScittErrors(() => decodeReceipt(bytes))
      // A mutated receipt may still verify only if the mutation kept its meaning (e.g. a re-encoding).
      onlyScittErrors(() => {
        const out = verifyReceipt(bytes, { entry }, tsVerifier)
        assert.deepEqual([out.treeSize, out.leafIndex], [8, 5])
      })
    }), { numRuns: 300 })
  })

  it('seals, keys and problem details', () => {
    const key = encodeCoseKey({ algorithm: 'ES256', publicKey: portableSignatures.signer('ES256', new Uint8Array(32).fill(4)).publicKey, kid: utf8('k') })
    const problem = encodeProblemDetails({ title: 'Rejected', detail: 'policy', responseCode: 400 })
    fc.assert(fc.property(mutated(seal), mutated(key), mutated(problem), (s, k, p) => {
      onlyScittErrors(() => decodeSeal(s))
      onlyScittErrors(() => decodeCoseKey(k))
      onlyScittErrors(() => decodeProblemDetails(p))
    }), { numRuns: 400 })
  })
})
