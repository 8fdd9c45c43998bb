import assert from 'node:assert/strict'
import { fromBase64, fromBase64Url, fromHex, isScittError, readU64be, toBase64, toBase64Url, toHex, u64be, fromUtf8 } from '@scitt/core'

describe('bytes', () => {
  it('round-trips base64 with padding and rejects non-canonical forms', () => {
    for (let n = 0; n < 40; n++) {
      const b = Uint8Array.from({ length: n }, (_, i) => (i * 37 + n) & 255)
      assert.deepEqual(fromBase64(toBase64(b)), b)
      assert.deepEqual(fromBase64Url(toBase64Url(b)), b)
    }
    for (const bad of ['QQ', 'QQ=', 'QR==', 'Q===', 'QUJD=', 'QU-D', 'QUJD\n', ' QUJD', 'QUJ=D===']) {
      assert.throws(() => fromBase64(bad), (e) => isScittError(e, 'MALFORMED'), bad)
    }
    for (const bad of ['QQ==', 'QR', 'Q', 'QU+D']) {
      assert.throws(() => fromBase64Url(bad), (e) => isScittError(e, 'MALFORMED'), bad)
    }
  })

  it('decodes strict lowercase hex only', () => {
    assert.equal(toHex(fromHex('00ff10')), '00ff10')
    for (const bad of ['0', 'FF', '0g', ' 00']) assert.throws(() => fromHex(bad), (e) => isScittError(e, 'MALFORMED'))
  })

  it('encodes u64 big-endian and refuses values above 2^53-1', () => {
    assert.equal(toHex(u64be(1700000000)), '000000006553f100')
    assert.equal(readU64be(u64be(Number.MAX_SAFE_INTEGER)), Number.MAX_SAFE_INTEGER)
    assert.throws(() => readU64be(fromHex('0020000000000000')), (e) => isScittError(e, 'MALFORMED'))
    assert.throws(() => u64be(-1), RangeError)
  })

  it('rejects invalid UTF-8', () => {
    assert.throws(() => fromUtf8(new Uint8Array([0xc3, 0x28])), (e) => isScittError(e, 'MALFORMED'))
  })
})
