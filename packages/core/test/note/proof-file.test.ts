import assert from 'node:assert/strict'
import fc from 'fast-check'
import {
  MAX_PROOF_FILE_SIZE, PROOF_FILE_HEADER,
  formatProofFile, fromHex, isScittError, noteVerifierFromVkey, parseCosignature, parseNote, parsePolicy, parseProofFile, sha256Digest, toBase64,
  utf8, verifyProofFile, type ProofFile,
} from '@scitt/core'
import { loadVector } from '../../../../test/fixtures.js'

const v = loadVector('c2sp-notes')
const m = loadVector('rfc9162-merkle')
const code = (c: string) => (e: unknown) => isScittError(e, c as never)
const logVerifier = noteVerifierFromVkey(v.log_vkey)
const leafHashes: Uint8Array[] = m.leaf_hashes.map(fromHex)
const inclusion = (index: number): Uint8Array[] =>
  m.inclusion.find((c: any) => c.size === 8 && c.index === index).proof.map(fromHex)
const file = (index: number, extra?: Uint8Array): ProofFile =>
  ({ ...(extra === undefined ? {} : { extra }), index, proof: inclusion(index), checkpoint: v.cosigned_checkpoint8 })
const quorumW1 = parsePolicy(`log ${v.log_vkey}\nwitness w1 ${v.witness_vkey}\nquorum w1\n`)

describe('note/proof-file', () => {
  it('formats the documented layout and parses it back', () => {
    const text = formatProofFile(file(5, utf8('hello')))
    const [p0, p1, p2] = inclusion(5).map(toBase64)
    assert.equal(text, `c2sp.org/tlog-proof@v1\nextra aGVsbG8=\nindex 5\n${p0}\n${p1}\n${p2}\n\n${v.cosigned_checkpoint8}`)
    assert.deepEqual(parseProofFile(text), file(5, utf8('hello')))
    assert.deepEqual(parseProofFile(utf8(formatProofFile(file(0)))), file(0))
    assert.ok(!('extra' in parseProofFile(formatProofFile(file(0)))))
    // Empty extra data round-trips as an "extra " line.
    assert.deepEqual(parseProofFile(formatProofFile(file(1, new Uint8Array(0)))).extra, new Uint8Array(0))
  })

  it('verifies every leaf of the 8-leaf tree against the cosigned fixture checkpoint, with and without a policy', () => {
    for (let i = 0; i < 8; i++) {
      const parsed = parseProofFile(formatProofFile(file(i)))
      assert.equal(verifyProofFile(parsed, leafHashes[i]!, logVerifier).size, 8)
      assert.equal(verifyProofFile(parsed, leafHashes[i]!, logVerifier, quorumW1).size, 8)
    }
  })

  it('rejects wrong leaves, indexes, keys and unmet policies with coded errors', () => {
    assert.throws(() => verifyProofFile(file(2), leafHashes[3]!, logVerifier), code('BAD_PROOF'))
    assert.throws(() => verifyProofFile({ ...file(2), index: 3 }, leafHashes[2]!, logVerifier), code('BAD_PROOF'))
    assert.throws(() => verifyProofFile({ ...file(2), index: 8 }, leafHashes[2]!, logVerifier), code('BAD_PROOF'))
    assert.throws(() => verifyProofFile({ ...file(2), proof: inclusion(2).slice(1) }, leafHashes[2]!, logVerifier), code('BAD_PROOF'))
    assert.throws(() => verifyProofFile(file(2), leafHashes[2]!, noteVerifierFromVkey(v.witness_vkey)), code('UNKNOWN_ORIGIN'))
    assert.throws(() => verifyProofFile({ ...file(2), checkpoint: v.checkpoint8.replace('\n8\n', '\n9\n') }, leafHashes[2]!, logVerifier), code('BAD_SIGNATURE'))
    assert.throws(() => verifyProofFile({ ...file(2), checkpoint: v.checkpoint8 }, leafHashes[2]!, logVerifier, quorumW1), code('POLICY'))
    assert.throws(() => verifyProofFile(file(2), new Uint8Array(31), logVerifier), RangeError)
  })

  it('with now, a cosignature timestamped later does not count towards the quorum (C2SP tlog-cosignature)', () => {
    const sig = parseNote(v.cosigned_checkpoint8).signatures.find((s) => s.name === 'witness.example/w1')!
    const { timestamp } = parseCosignature(sig)
    const parsed = parseProofFile(formatProofFile(file(2)))
    assert.equal(verifyProofFile(parsed, leafHashes[2]!, logVerifier, quorumW1, timestamp).size, 8, 'cosigned at now')
    assert.equal(verifyProofFile(parsed, leafHashes[2]!, logVerifier, quorumW1, timestamp + 3600).size, 8, 'cosigned before now')
    assert.throws(() => verifyProofFile(parsed, leafHashes[2]!, logVerifier, quorumW1, timestamp - 1), (err: unknown) => {
      assert.ok(isScittError(err, 'POLICY'), String(err))
      assert.deepEqual(err.details?.witnesses, [], 'the future cosignature is not counted')
      return true
    })
    assert.throws(() => verifyProofFile(parsed, leafHashes[2]!, logVerifier, quorumW1, -1), RangeError)
    assert.throws(() => verifyProofFile(parsed, leafHashes[2]!, logVerifier, quorumW1, 1.5), RangeError)
  })

  const good = formatProofFile(file(5, utf8('hello')))
  const hashLine = toBase64(inclusion(5)[0]!)
  const bad: Array<[string, string, string?]> = [
    ['no header', good.slice(PROOF_FILE_HEADER.length + 1)],
    ['a v2 header', good.replace('@v1', '@v2')],
    ['a header with trailing space', good.replace('@v1\n', '@v1 \n')],
    ['extra not base64', good.replace('extra aGVsbG8=', 'extra aGVsbG8')],
    ['extra without a space', good.replace('extra aGVsbG8=', 'extraaGVsbG8=')],
    ['extra after index', good.replace('extra aGVsbG8=\nindex 5', 'index 5\nextra aGVsbG8=')],
    ['two extra lines', good.replace('extra aGVsbG8=\n', 'extra aGVsbG8=\nextra aGVsbG8=\n')],
    ['index 05', good.replace('index 5', 'index 05')],
    ['index -5', good.replace('index 5', 'index -5')],
    ['index +5', good.replace('index 5', 'index +5')],
    ['an empty index', good.replace('index 5', 'index ')],
    ['index above 2^53-1', good.replace('index 5', 'index 9007199254740992')],
    ['no index line', good.replace('index 5\n', '')],
    ['a 31-byte hash', good.replace(hashLine, toBase64(new Uint8Array(31)))],
    ['a hash that is not base64', good.replace(hashLine, hashLine.replace('=', '-'))],
    ['no blank line', good.replace(`\n\n${v.cosigned_checkpoint8}`, `\n${v.cosigned_checkpoint8}`)],
    ['a checkpoint without signatures', good.replace(v.cosigned_checkpoint8, v.cosigned_checkpoint8.split('\n\n')[0]! + '\n')],
    ['a non-canonical checkpoint', good.replace('\n8\n', '\n08\n')],
    ['no checkpoint', good.slice(0, good.indexOf('\n\n') + 2)],
    ['CRLF', good.replace('\n', '\r\n')],
    ['over the size limit', `${PROOF_FILE_HEADER}\nextra ${'A'.repeat(MAX_PROOF_FILE_SIZE)}\n`, 'TOO_LARGE'],
  ]
  for (const [what, text, expected = 'MALFORMED'] of bad) {
    it(`rejects a proof file with ${what} (${expected})`, () => {
      assert.throws(() => parseProofFile(text), code(expected))
    })
  }

  it('accepts 63 proof lines and refuses 64', () => {
    const proof = Array.from({ length: 63 }, (_, i) => sha256Digest(Uint8Array.of(i)))
    const text = formatProofFile({ index: 0, proof, checkpoint: v.checkpoint8 })
    assert.equal(parseProofFile(text).proof.length, 63)
    assert.throws(() => parseProofFile(text.replace('index 0\n', `index 0\n${hashLine}\n`)), code('MALFORMED'))
    assert.throws(() => formatProofFile({ index: 0, proof: [...proof, proof[0]!], checkpoint: v.checkpoint8 }), RangeError)
  })

  it('never throws anything but a ScittError on mutated proof files (property)', () => {
    const base = utf8(good)
    fc.assert(fc.property(fc.array(fc.tuple(fc.nat(base.length - 1), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 4 }), (edits) => {
      const bytes = base.slice()
      for (const [i, b] of edits) bytes[i] = b
      try {
        const parsed = parseProofFile(bytes)
        assert.equal(verifyProofFile(parsed, leafHashes[5]!, logVerifier, quorumW1).size, 8)
      } catch (e) {
        assert.ok(isScittError(e), String(e))
      }
    }), { numRuns: 200 })
  })
})
