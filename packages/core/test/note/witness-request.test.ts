import assert from 'node:assert/strict'
import fc from 'fast-check'
import {
  EMPTY_ROOT, MAX_ADD_CHECKPOINT_REQUEST_SIZE,
  ed25519NoteSigner, evaluateAddCheckpoint, formatAddCheckpointRequest, formatCosignatureLines, formatNote,
  formatTreeSizeBody, fromHex, isScittError, noteSignerFromSkey, noteVerifierFromVkey, parseAddCheckpointRequest,
  parseCheckpoint, parseCosignatureLines, parseNote, parseTreeSizeBody, sha256Digest, signCheckpoint,
  toBase64, utf8,
  type AddCheckpointInput, type AddCheckpointRequest, type Checkpoint,
} from '@scitt/core'
import { loadVector } from '../../../../test/fixtures.js'

const v = loadVector('c2sp-notes')
const m = loadVector('rfc9162-merkle')
const code = (c: string) => (e: unknown) => isScittError(e, c as never)
const ORIGIN = 'example.com/scitt-log'
const logSigner = noteSignerFromSkey(v.log_skey)
const logVerifier = noteVerifierFromVkey(v.log_vkey)
const root = (size: number): Uint8Array => fromHex(m.roots[String(size)])
const consistency = (size1: number, size2: number): Uint8Array[] =>
  m.consistency.find((c: any) => c.size1 === size1 && c.size2 === size2).proof.map(fromHex)
const signed = (size: number, rootHash = root(size), origin = ORIGIN, signer = logSigner): string =>
  formatNote(signCheckpoint({ origin, size, rootHash, extensions: [] } satisfies Checkpoint, signer))
const known4 = { size: 4, rootHash: root(4) }

describe('note/witness-request', () => {
  it('formats and parses the fixture add-checkpoint body exactly', () => {
    const request = parseAddCheckpointRequest(v.add_checkpoint_body)
    assert.equal(request.oldSize, 4)
    assert.equal(request.origin, ORIGIN)
    assert.deepEqual(request.proof, consistency(4, 8))
    assert.equal(request.checkpoint, v.checkpoint8)
    assert.equal(formatAddCheckpointRequest({ oldSize: 4, proof: consistency(4, 8), checkpoint: v.checkpoint8 }), v.add_checkpoint_body)
    assert.deepEqual(parseAddCheckpointRequest(utf8(v.add_checkpoint_body)), request)
  })

  it('answers 200 for the fixture request with known {size 4, root of checkpoint4}', () => {
    const request = parseAddCheckpointRequest(v.add_checkpoint_body)
    const known = { size: 4, rootHash: parseCheckpoint(parseNote(v.checkpoint4).text).rootHash }
    const outcome = evaluateAddCheckpoint({ request, logKeys: [logVerifier], known })
    assert.equal(outcome.status, 200)
    if (outcome.status !== 200) return
    assert.equal(outcome.checkpoint.size, 8)
    assert.deepEqual(outcome.checkpoint.rootHash, root(8))
    assert.equal(outcome.note.text, parseNote(v.checkpoint8).text)
  })

  it('answers 200 for every consistency proof of the 8-leaf tree, a first checkpoint, a repeat and an empty tree', () => {
    for (let size1 = 1; size1 < 8; size1++) {
      const outcome = evaluateAddCheckpoint({
        request: { oldSize: size1, proof: consistency(size1, 8), checkpoint: signed(8) },
        logKeys: [logVerifier],
        known: { size: size1, rootHash: root(size1) },
      })
      assert.equal(outcome.status, 200, `${size1} → 8`)
    }
    assert.equal(evaluateAddCheckpoint({ request: { oldSize: 0, proof: [], checkpoint: signed(8) }, logKeys: [logVerifier], known: undefined }).status, 200)
    assert.equal(evaluateAddCheckpoint({ request: { oldSize: 8, proof: [], checkpoint: signed(8) }, logKeys: [logVerifier], known: { size: 8, rootHash: root(8) } }).status, 200)
    assert.equal(evaluateAddCheckpoint({ request: { oldSize: 0, proof: [], checkpoint: signed(0, EMPTY_ROOT) }, logKeys: [logVerifier], known: undefined }).status, 200)
    assert.equal(evaluateAddCheckpoint({ request: { oldSize: 0, proof: [], checkpoint: signed(3) }, logKeys: [logVerifier], known: { size: 0, rootHash: EMPTY_ROOT } }).status, 200)
  })

  const good: AddCheckpointRequest = { oldSize: 4, proof: consistency(4, 8), checkpoint: v.checkpoint8 }
  const stranger = ed25519NoteSigner(ORIGIN, sha256Digest(utf8('stranger')))
  const flipped = consistency(4, 8).map((h) => h.slice())
  flipped[0]![0]! ^= 1
  const cases: Array<[string, AddCheckpointInput, number, string, number?]> = [
    ['a malformed checkpoint', { request: { ...good, checkpoint: 'garbage\n\n— x AAAAAAA=\n' }, logKeys: [logVerifier], known: known4 }, 400, 'MALFORMED'],
    ['a non-canonical checkpoint', { request: { ...good, checkpoint: v.checkpoint8.replace('\n8\n', '\n08\n') }, logKeys: [logVerifier], known: known4 }, 400, 'MALFORMED'],
    ['a 31-byte proof hash', { request: { ...good, proof: [new Uint8Array(31)] }, logKeys: [logVerifier], known: known4 }, 400, 'MALFORMED'],
    ['a negative old size', { request: { ...good, oldSize: -1 }, logKeys: [logVerifier], known: known4 }, 400, 'MALFORMED'],
    ['an unknown origin', { request: good, logKeys: [], known: undefined }, 404, 'UNKNOWN_ORIGIN'],
    ['a key for another origin', { request: good, logKeys: [noteVerifierFromVkey(v.witness_vkey)], known: known4 }, 404, 'UNKNOWN_ORIGIN'],
    ['a checkpoint signed by another key of the same name', { request: { ...good, checkpoint: signed(8, root(8), ORIGIN, stranger) }, logKeys: [logVerifier], known: known4 }, 403, 'BAD_SIGNATURE'],
    ['a tampered log signature', { request: { ...good, checkpoint: v.checkpoint8.replace('YCEu6jrE', 'YCEu6jrF') }, logKeys: [logVerifier], known: known4 }, 403, 'BAD_SIGNATURE'],
    ['old size above the checkpoint size', { request: { oldSize: 9, proof: [], checkpoint: v.checkpoint8 }, logKeys: [logVerifier], known: { size: 9, rootHash: root(8) } }, 400, 'MALFORMED'],
    ['old size ≠ known size', { request: good, logKeys: [logVerifier], known: { size: 5, rootHash: root(5) } }, 409, 'CONFLICT', 5],
    ['old size with nothing known', { request: good, logKeys: [logVerifier], known: undefined }, 409, 'CONFLICT', 0],
    ['old 0 while a size is known', { request: { oldSize: 0, proof: [], checkpoint: v.checkpoint8 }, logKeys: [logVerifier], known: known4 }, 409, 'CONFLICT', 4],
    ['a size-0 checkpoint with a non-empty root', { request: { oldSize: 0, proof: [], checkpoint: signed(0, root(1)) }, logKeys: [logVerifier], known: undefined }, 422, 'BAD_PROOF'],
    ['a non-empty proof from old 0', { request: { oldSize: 0, proof: consistency(4, 8), checkpoint: v.checkpoint8 }, logKeys: [logVerifier], known: undefined }, 422, 'BAD_PROOF'],
    ['a failing proof', { request: { ...good, proof: flipped }, logKeys: [logVerifier], known: known4 }, 422, 'BAD_PROOF'],
    ['a proof of the wrong length', { request: { ...good, proof: consistency(3, 8) }, logKeys: [logVerifier], known: known4 }, 422, 'BAD_PROOF'],
    ['a proof against another known root', { request: good, logKeys: [logVerifier], known: { size: 4, rootHash: root(3) } }, 422, 'BAD_PROOF'],
    ['same size, different root', { request: { oldSize: 8, proof: [], checkpoint: v.checkpoint8 }, logKeys: [logVerifier], known: { size: 8, rootHash: root(7) } }, 422, 'INCONSISTENT'],
    ['same size with a non-empty proof', { request: { oldSize: 8, proof: consistency(4, 8), checkpoint: v.checkpoint8 }, logKeys: [logVerifier], known: { size: 8, rootHash: root(8) } }, 422, 'BAD_PROOF'],
  ]
  for (const [what, input, status, errorCode, knownSize] of cases) {
    it(`answers ${status} ${errorCode} for ${what}`, () => {
      const outcome = evaluateAddCheckpoint(input)
      assert.equal(outcome.status, status)
      if (outcome.status === 200) return
      assert.equal(outcome.code, errorCode)
      assert.equal(typeof outcome.reason, 'string')
      assert.equal(outcome.knownSize, knownSize)
    })
  }

  it('accepts 63 proof lines and refuses 64', () => {
    const proof = Array.from({ length: 63 }, (_, i) => sha256Digest(Uint8Array.of(i)))
    const body = formatAddCheckpointRequest({ oldSize: 4, proof, checkpoint: v.checkpoint8 })
    assert.equal(parseAddCheckpointRequest(body).proof.length, 63)
    const extra = body.replace('\n\n', `\n${toBase64(new Uint8Array(32))}\n\n`)
    assert.throws(() => parseAddCheckpointRequest(extra), code('MALFORMED'))
    assert.throws(() => formatAddCheckpointRequest({ oldSize: 4, proof: [...proof, proof[0]!], checkpoint: v.checkpoint8 }), RangeError)
  })

  const body = v.add_checkpoint_body as string
  const line = 'a0eq8p7jwq+a+Im8H7klTavTEXfxYjLdaqsDXKOb9uQ='
  const badBodies: Array<[string, string, string?]> = [
    ['old -1', body.replace('old 4', 'old -1')],
    ['old 01', body.replace('old 4', 'old 04')],
    ['old +4', body.replace('old 4', 'old +4')],
    ['two spaces', body.replace('old 4', 'old  4')],
    ['Old', body.replace('old 4', 'Old 4')],
    ['no old line', body.slice('old 4\n'.length)],
    ['old above 2^53-1', body.replace('old 4', 'old 9007199254740992')],
    ['a 31-byte hash', body.replace(line, toBase64(new Uint8Array(31)))],
    ['a 33-byte hash', body.replace(line, toBase64(new Uint8Array(33)))],
    ['a hash without padding', body.replace(line, line.slice(0, -1))],
    ['a hex hash', body.replace(line, m.leaf_hashes[0])],
    ['a missing blank line', body.replace(`${line}\n\n`, `${line}\n`)],
    ['nothing but the old line', 'old 4\n'],
    ['no newline at all', 'old 4'],
    ['CRLF', body.replace('old 4\n', 'old 4\r\n')],
    ['a checkpoint without signatures', `old 4\n${line}\n\n${parseNote(v.checkpoint8).text}`],
    ['a non-canonical checkpoint', body.replace('\n8\n', '\n08\n')],
    ['an empty checkpoint', `old 4\n${line}\n\n`],
    ['an oversized body', `old 4\n\n${'x'.repeat(MAX_ADD_CHECKPOINT_REQUEST_SIZE)}`, 'TOO_LARGE'],
    ['a NUL character', 'old 4\n\n\u0000'],
  ]
  for (const [what, input, expected = 'MALFORMED'] of badBodies) {
    it(`rejects a request with ${what} (${expected})`, () => {
      assert.throws(() => parseAddCheckpointRequest(input), code(expected))
    })
  }

  it('rejects a request whose bytes are not UTF-8', () => {
    const bytes = utf8(body)
    bytes[bytes.length - 5] = 0xff
    assert.throws(() => parseAddCheckpointRequest(bytes), code('MALFORMED'))
  })

  it('formats and parses cosignature response lines', () => {
    const sigs = parseCosignatureLines(v.cosig_line)
    assert.equal(sigs.length, 1)
    assert.equal(sigs[0]!.name, 'witness.example/w1')
    assert.equal(formatCosignatureLines(sigs), v.cosig_line)
    const two = `${v.cosig_line}${v.checkpoint8.split('\n\n')[1]}`
    assert.equal(parseCosignatureLines(utf8(two)).length, 2)
    for (const bad of ['', '\n', v.cosig_line.slice(0, -1), `${v.cosig_line}${v.cosig_line}`, `\n${v.cosig_line}`, v.cosig_line.replace('—', '-')]) {
      assert.throws(() => parseCosignatureLines(bad), code('MALFORMED'), JSON.stringify(bad))
    }
    assert.throws(() => formatCosignatureLines([]), RangeError)
  })

  it('formats and strictly parses the 409 tree size body', () => {
    assert.equal(formatTreeSizeBody(0), '0\n')
    assert.equal(formatTreeSizeBody(42), '42\n')
    assert.equal(parseTreeSizeBody('42\n'), 42)
    assert.equal(parseTreeSizeBody(utf8('0\n')), 0)
    assert.equal(parseTreeSizeBody('9007199254740991\n'), Number.MAX_SAFE_INTEGER)
    for (const bad of ['', '\n', '42', '042\n', '+42\n', ' 42\n', '42 \n', '42\n\n', '-1\n', '4.2\n', '9007199254740992\n', '42\r\n']) {
      assert.throws(() => parseTreeSizeBody(bad), code('MALFORMED'), JSON.stringify(bad))
    }
    assert.throws(() => parseTreeSizeBody(`${'1'.repeat(40)}\n`), code('TOO_LARGE'))
    assert.throws(() => formatTreeSizeBody(-1), RangeError)
  })

  it('never throws anything but a ScittError on mutated requests, parsed then evaluated (property)', () => {
    const base = utf8(body)
    fc.assert(fc.property(fc.array(fc.tuple(fc.nat(base.length - 1), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 4 }), (edits) => {
      const bytes = base.slice()
      for (const [i, b] of edits) bytes[i] = b
      let request
      try {
        request = parseAddCheckpointRequest(bytes)
      } catch (e) {
        assert.ok(isScittError(e), String(e))
        return
      }
      const outcome = evaluateAddCheckpoint({ request, logKeys: [logVerifier], known: known4 })
      if (outcome.status === 200) assert.equal(outcome.note.text, parseNote(v.checkpoint8).text)
    }), { numRuns: 300 })
  })
})
