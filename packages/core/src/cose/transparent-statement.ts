/**
 * Transparent Statements (RFC 9943 §7): a Signed Statement with receipts in its unprotected header,
 * label 394. We emit an array of bstr-wrapped receipts (RFC 9942 `[+ bstr .cbor Receipt]`) and accept
 * both wrapped and unwrapped (`#6.18(COSE_Sign1)`) receipts on input (docs/spec-digest.md §1.4).
 */
import { assertBytes } from '../bytes.js'
import { malformed } from '../errors.js'
import { encodeCbor, Tagged, type CborValue } from './cbor.js'
import { HEADER } from './labels.js'
import { decodeSign1, encodeSign1, sign1FromValue, type Sign1 } from './sign1.js'

function receiptsOf (sign1: Sign1): Uint8Array[] {
  const value = sign1.unprotected.get(HEADER.receipts)
  if (value === undefined) return []
  if (!Array.isArray(value)) throw malformed('transparent statement: receipts (394) must be an array')
  return value.map((item: CborValue) => {
    if (item instanceof Uint8Array) return item
    if (item instanceof Tagged) {
      sign1FromValue(item)
      return encodeCbor(item)
    }
    throw malformed('transparent statement: each receipt must be a bstr or a tagged COSE_Sign1')
  })
}

/**
 * Appends receipts (each the bytes of a tagged COSE_Sign1) to label 394, after any already present,
 * all bstr-wrapped. Other unprotected labels, the protected header, payload and signature are kept.
 */
export function addReceipts (statementBytes: Uint8Array, receipts: Uint8Array[]): Uint8Array {
  const sign1 = decodeSign1(statementBytes)
  for (const receipt of receipts) {
    assertBytes(receipt, 'receipt')
    decodeSign1(receipt)
  }
  const all = [...receiptsOf(sign1), ...receipts]
  if (all.length === 0) throw new RangeError('a transparent statement needs at least one receipt')
  const unprotected = new Map(sign1.unprotected)
  unprotected.set(HEADER.receipts, all)
  return encodeSign1({ ...sign1, unprotected })
}

/** The receipts of a (transparent) statement, as tagged COSE_Sign1 bytes; [] when there are none. */
export function getReceipts (statementBytes: Uint8Array): Uint8Array[] {
  return receiptsOf(decodeSign1(statementBytes))
}
