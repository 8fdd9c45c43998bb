import assert from 'node:assert/strict'
import {
  addReceipts, decodeSign1, encodeSign1, entryBytes, entryId, formatProofFile, parseCheckpoint, parseNote, parsePolicy, parseProofFile,
  portableSignatures, sha256Digest, toBase64, toHex, utf8, validateStatement, consistencyProof,
  didKeyFromPublicKey, publicKeyFromDidKey,
} from '@scitt/core'
import { nodeSignatures } from '@scitt/node-crypto'
import {
  parsePublicKeys, secretKeyJwk, signHashEnvelope, signStatement, signerFromJwk,
  VERIFY_CODES, verifyProof, verifyStatementReceipt, verifyTransparentStatement, type Check, type VerificationReport, type VerifyOptions,
} from '@scitt/client'
import { TestLog, policyText, witness } from './helpers.js'

/** Every check of a report has its code (OK exactly when it passed, and the error code it falls under) and a reason free of CLI flags. */
function assertCodes (report: VerificationReport): void {
  for (const c of report.checks) {
    assert.equal(c.verifyCode === 'OK', c.status === 'ok', JSON.stringify(c))
    const under = c.verifyCode in VERIFY_CODES ? VERIFY_CODES[c.verifyCode as keyof typeof VERIFY_CODES] : c.verifyCode
    assert.equal(c.code, under, JSON.stringify(c))
    assert.doesNotMatch(c.reason, /(^|[\s(])--[a-z]|\bscitt [a-z]/, `${c.name}: the SDK speaks of options, not CLI flags`)
  }
}

function check (report: VerificationReport, name: string): Check {
  assertCodes(report)
  const found = report.checks.find((c) => c.name === name)
  assert.ok(found !== undefined, `no check ${name} in ${JSON.stringify(report.checks.map((c) => c.name))}`)
  return found
}

function flip (bytes: Uint8Array, at: number): Uint8Array {
  const copy = bytes.slice()
  copy[at]! ^= 1
  return copy
}

describe('offline verification', () => {
  const issuer = signerFromJwk(secretKeyJwk('Ed25519', portableSignatures.generateSecretKey('Ed25519')))
  const iss = didKeyFromPublicKey('Ed25519', issuer.key.publicKey)
  const statement = signStatement({ signer: issuer.signer, kid: issuer.key.kid, iss, sub: 'fw-1.0', contentType: 'text/plain', payload: utf8('firmware v1') })
  const log = new TestLog('example.com/log1')
  const [w1, w2, w3] = [witness('w1.example'), witness('w2.example'), witness('w3.example')]
  const policy = parsePolicy(policyText([log], [w1, w2, w3], 2))
  let index: number
  let receipt: Uint8Array
  let transparent: Uint8Array
  let cosigned: string
  let options: VerifyOptions

  before(async () => {
    for (let i = 0; i < 5; i++) log.append(utf8(`other entry ${i}`))
    index = log.append(entryBytes(decodeSign1(statement)))
    log.append(utf8('later entry'))
    receipt = await log.receipt(index)
    transparent = addReceipts(statement, [receipt])
    cosigned = log.checkpoint(log.size, [w1, w3])
    options = { provider: nodeSignatures, nodeKeys: [log.receiptKey], allowDidKey: true, policy, checkpoints: [cosigned] }
  })

  it('verifies a transparent statement: issuer, receipt, cosigned checkpoint', async () => {
    const report = await verifyTransparentStatement(transparent, options)
    assert.equal(report.ok, true, JSON.stringify(report.checks))
    assert.equal(report.kind, 'transparent-statement')
    assert.equal(report.entryId, entryId(entryBytes(decodeSign1(statement))))
    assert.deepEqual(report.checks.map((c) => [c.name, c.status, c.verifyCode]), [
      ['issuer-signature', 'ok', 'OK'], ['checkpoint[0]', 'ok', 'OK'], ['receipt[0]', 'ok', 'OK'], ['receipt[0].witnessed', 'ok', 'OK'],
    ])
    assert.deepEqual(check(report, 'checkpoint[0]').details?.witnesses, ['w1.example', 'w3.example'])
    assert.equal(check(report, 'receipt[0]').details?.leafIndex, index)
  })

  it('verifies with the portable provider too (the browser path)', async () => {
    const report = await verifyTransparentStatement(transparent, { ...options, provider: portableSignatures })
    assert.equal(report.ok, true)
  })

  it('verifies a receipt given beside its statement', async () => {
    const report = await verifyStatementReceipt(statement, receipt, options)
    assert.equal(report.ok, true)
    assert.equal(report.kind, 'receipt')
  })

  it('skips the issuer check without issuer keys, and still verifies the receipt', async () => {
    const report = await verifyTransparentStatement(transparent, { nodeKeys: [log.receiptKey] })
    assert.equal(report.ok, true)
    assert.equal(check(report, 'issuer-signature').status, 'skipped')
    assert.equal(check(report, 'issuer-signature').verifyCode, 'NO_ISSUER_KEY')
    assert.match(check(report, 'issuer-signature').reason, /did:key issuers are not accepted/)
  })

  it('checks the issuer signature against given issuer keys by kid', async () => {
    const good = await verifyTransparentStatement(transparent, { nodeKeys: [log.receiptKey], issuerKeys: [issuer.key] })
    assert.equal(check(good, 'issuer-signature').status, 'ok')
    const other = signerFromJwk(secretKeyJwk('Ed25519', portableSignatures.generateSecretKey('Ed25519')))
    const bad = await verifyTransparentStatement(transparent, { nodeKeys: [log.receiptKey], issuerKeys: [other.key] })
    assert.equal(bad.ok, false)
    assert.equal(check(bad, 'issuer-signature').status, 'failed')
    assert.equal(check(bad, 'issuer-signature').code, 'UNKNOWN_KEY')
    assert.equal(check(bad, 'issuer-signature').verifyCode, 'NO_MATCHING_ISSUER_KEY')
    // The right key under another kid: the thumbprint still matches, so it is found.
    const renamed = await verifyTransparentStatement(transparent, { nodeKeys: [log.receiptKey], issuerKeys: [{ ...issuer.key, kid: utf8('x') }] })
    assert.equal(check(renamed, 'issuer-signature').status, 'ok')
  })

  it('fails a tampered statement: issuer signature and receipt', async () => {
    const sign1 = decodeSign1(transparent)
    const tampered = encodeSign1({ ...sign1, payload: utf8('firmware v2') })
    const report = await verifyTransparentStatement(tampered, options)
    assert.equal(report.ok, false)
    assert.equal(check(report, 'issuer-signature').code, 'BAD_SIGNATURE')
    assert.equal(check(report, 'issuer-signature').verifyCode, 'BAD_SIGNATURE')
    assert.equal(check(report, 'receipt[0]').status, 'failed')
    assert.equal(check(report, 'receipts').verifyCode, 'NO_RECEIPT_VERIFIED')
  })

  it('fails a statement that does not decode, and one that carries no receipt', async () => {
    const garbage = await verifyTransparentStatement(utf8('not cbor'), options)
    assert.deepEqual(garbage.checks.map((c) => [c.name, c.status, c.verifyCode]), [['statement', 'failed', 'MALFORMED']])
    assertCodes(garbage)
    const bare = await verifyTransparentStatement(statement, options)
    assert.equal(bare.ok, false)
    assert.equal(check(bare, 'receipts').verifyCode, 'NO_RECEIPT')
    assert.equal(check(bare, 'receipts').code, 'NOT_FOUND')
  })

  it('fails a tampered receipt signature, naming receipt[0]', async () => {
    const bad = flip(receipt, receipt.length - 1)
    const report = await verifyTransparentStatement(addReceipts(statement, [bad]), options)
    assert.equal(report.ok, false)
    assert.equal(check(report, 'receipt[0]').status, 'failed')
    assert.equal(check(report, 'receipt[0]').code, 'BAD_SIGNATURE')
    assert.equal(check(report, 'receipt[0]').verifyCode, 'BAD_SIGNATURE')
  })

  it('fails a receipt whose inclusion path was altered', async () => {
    const at = receipt.length - 64 - 2 - 10 // inside the last path hash, before the signature
    const report = await verifyTransparentStatement(addReceipts(statement, [flip(receipt, at)]), options)
    assert.equal(report.ok, false)
    assert.equal(check(report, 'receipt[0]').status, 'failed')
  })

  it('skips a receipt by an unknown key and fails when none verifies', async () => {
    const report = await verifyTransparentStatement(transparent, { nodeKeys: [new TestLog('other.example/log').receiptKey] })
    assert.equal(report.ok, false)
    assert.equal(check(report, 'receipt[0]').status, 'skipped')
    assert.equal(check(report, 'receipt[0]').verifyCode, 'NO_TRUSTED_KEY')
    assert.equal(check(report, 'receipt[0]').code, 'UNKNOWN_KEY')
    assert.equal(check(report, 'receipts').status, 'failed')
    assert.equal(check(report, 'receipts').verifyCode, 'NO_RECEIPT_VERIFIED')
    const none = await verifyTransparentStatement(transparent, {})
    assert.equal(check(none, 'receipts').verifyCode, 'NO_NODE_KEYS')
    assert.equal(check(none, 'receipts').code, 'UNKNOWN_KEY')
    assert.match(check(none, 'receipts').reason, /no trusted node keys given/)
  })

  it('finds the key of the receipt\'s algorithm when a kid names keys of several algorithms', async () => {
    const impostor = { algorithm: 'Ed25519' as const, publicKey: portableSignatures.signer('Ed25519', sha256Digest(utf8('i'))).publicKey, kid: log.receiptKey.kid }
    const report = await verifyTransparentStatement(transparent, { nodeKeys: [impostor, log.receiptKey] })
    assert.equal(check(report, 'receipt[0]').status, 'ok')
    const only = await verifyTransparentStatement(transparent, { nodeKeys: [impostor] })
    assert.equal(check(only, 'receipt[0]').status, 'skipped')
  })

  it('accepts one good receipt beside one by an unknown log', async () => {
    const other = new TestLog('other.example/log')
    const i = other.append(entryBytes(decodeSign1(statement)))
    const both = addReceipts(statement, [await other.receipt(i), receipt])
    const report = await verifyTransparentStatement(both, options)
    assert.equal(report.ok, true)
    assert.equal(check(report, 'receipt[0]').status, 'skipped')
    assert.equal(check(report, 'receipt[1]').status, 'ok')
  })

  it('fails when the witness quorum is not met', async () => {
    const report = await verifyTransparentStatement(transparent, { ...options, checkpoints: [log.checkpoint(log.size, [w2])] })
    assert.equal(report.ok, false)
    assert.equal(check(report, 'checkpoint[0]').code, 'POLICY')
    assert.equal(check(report, 'checkpoint[0]').verifyCode, 'POLICY')
    assert.equal(check(report, 'receipt[0].witnessed').status, 'failed')
    assert.equal(check(report, 'receipt[0].witnessed').verifyCode, 'NO_CHECKPOINT')
  })

  it('fails a tampered checkpoint', async () => {
    const lines = cosigned.split('\n')
    lines[1] = String(log.size + 1)
    const report = await verifyTransparentStatement(transparent, { ...options, checkpoints: [lines.join('\n')] })
    assert.equal(report.ok, false)
    assert.equal(check(report, 'checkpoint[0]').code, 'BAD_SIGNATURE')
    assert.equal(check(report, 'checkpoint[0]').verifyCode, 'BAD_SIGNATURE')
  })

  it('fails without a cosigned checkpoint at the receipt size, and says what is missing', async () => {
    const report = await verifyTransparentStatement(transparent, { ...options, checkpoints: [] })
    assert.equal(report.ok, false)
    const witnessed = check(report, 'receipt[0].witnessed')
    assert.equal(witnessed.verifyCode, 'NO_CHECKPOINT')
    assert.equal(witnessed.code, 'POLICY')
    assert.match(witnessed.reason, new RegExp(`no checkpoint of ${log.origin} cosigned per the policy at tree size ${log.size} or larger was given`))
    const smaller = await verifyTransparentStatement(transparent, { ...options, checkpoints: [log.checkpoint(log.size - 1, [w1, w2])] })
    assert.equal(check(smaller, 'receipt[0].witnessed').verifyCode, 'NO_CHECKPOINT')
    assert.match(check(smaller, 'receipt[0].witnessed').reason, new RegExp(`only sizes ${log.size - 1}`))
  })

  it('fails a larger cosigned checkpoint without a consistency proof source, and a checkpoint of another root at the receipt size', async () => {
    const grown = log.fork(log.size)
    grown.append(utf8('grown'))
    const later = await verifyTransparentStatement(transparent, { ...options, checkpoints: [grown.checkpoint(grown.size, [w1, w2])] })
    assert.equal(later.ok, false)
    assert.equal(check(later, 'receipt[0].witnessed').verifyCode, 'NO_CONSISTENCY_PROOF')
    assert.equal(check(later, 'receipt[0].witnessed').code, 'POLICY')
    const thrown = await verifyTransparentStatement(transparent, {
      ...options, checkpoints: [grown.checkpoint(grown.size, [w1, w2])], consistencyProof: async () => { throw new Error('source unreachable') },
    })
    assert.equal(check(thrown, 'receipt[0].witnessed').verifyCode, 'ERROR')
    assert.equal(check(thrown, 'receipt[0].witnessed').code, undefined)
    assert.equal(check(thrown, 'receipt[0].witnessed').reason, 'source unreachable')
    const other = log.fork(log.size - 1)
    other.append(utf8('another last entry'))
    const split = await verifyTransparentStatement(transparent, { ...options, checkpoints: [other.checkpoint(other.size, [w1, w2])] })
    assert.equal(check(split, 'receipt[0].witnessed').verifyCode, 'INCONSISTENT')
  })

  it('binds a receipt to a larger cosigned checkpoint through a consistency proof', async () => {
    const grown = log.fork(log.size)
    for (let i = 0; i < 9; i++) grown.append(utf8(`grown ${i}`))
    const later = grown.checkpoint(grown.size, [w1, w2])
    const asked: Array<[number, number]> = []
    const report = await verifyTransparentStatement(transparent, {
      ...options,
      checkpoints: [later],
      consistencyProof: async ({ size1, size2 }) => {
        asked.push([size1, size2])
        return consistencyProof(size1, size2, grown.reader)
      },
    })
    assert.equal(report.ok, true, JSON.stringify(report.checks))
    assert.deepEqual(asked, [[log.size, grown.size]])
    // A fork that rewrote the history: the proof from its tiles does not lead to the receipt's root.
    const fork = log.fork(3)
    for (let i = 0; i < 13; i++) fork.append(utf8(`fork ${i}`))
    const forked = await verifyTransparentStatement(transparent, {
      ...options,
      checkpoints: [fork.checkpoint(fork.size, [w1, w2])],
      consistencyProof: async ({ size1, size2 }) => consistencyProof(size1, size2, fork.reader),
    })
    assert.equal(forked.ok, false)
    assert.equal(check(forked, 'receipt[0].witnessed').code, 'BAD_PROOF')
    assert.equal(check(forked, 'receipt[0].witnessed').verifyCode, 'BAD_PROOF')
  })

  it('binds a receipt only to cosigned checkpoints of its own log (origin and log key), not to another log\'s with the same tree', async () => {
    // Log Y holds the same entries as log1, so its tree of every size has log1's root; the policy trusts both.
    const other = new TestLog('example.com/log2')
    for (const entry of log.entries) other.append(entry)
    assert.deepEqual(other.root(), log.root())
    const both = parsePolicy(policyText([log, other], [w1, w2, w3], 2))
    const asked: string[] = []
    const viaOther = await verifyTransparentStatement(transparent, {
      ...options,
      policy: both,
      checkpoints: [other.checkpoint(log.size, [w1, w2]), other.checkpoint(log.size - 1, [w1, w2])],
      consistencyProof: async ({ origin, size1, size2 }) => {
        asked.push(origin)
        return consistencyProof(size1, size2, other.reader)
      },
    })
    assert.deepEqual(viaOther.checks.filter((c) => /^checkpoint/.test(c.name)).map((c) => c.status), ['ok', 'ok'], 'both checkpoints are valid for log2')
    const witnessed = check(viaOther, 'receipt[0].witnessed')
    assert.equal(witnessed.status, 'failed', JSON.stringify(witnessed))
    assert.equal(witnessed.code, 'POLICY')
    assert.equal(witnessed.verifyCode, 'NO_CHECKPOINT')
    assert.match(witnessed.reason, /example\.com\/log1/)
    assert.equal(viaOther.ok, false)
    assert.deepEqual(asked, [], 'no consistency proof is asked of another log')

    // log2's checkpoint at the receipt's size with another root says nothing about log1: not INCONSISTENT.
    const diverged = other.fork(3)
    for (let i = 3; i < log.size; i++) diverged.append(utf8(`log2 only ${i}`))
    const unrelated = await verifyTransparentStatement(transparent, { ...options, policy: both, checkpoints: [diverged.checkpoint(log.size, [w1, w2])] })
    assert.equal(check(unrelated, 'receipt[0].witnessed').code, 'POLICY')

    // With log1's own checkpoint beside log2's, the receipt is witnessed through log1's, named with its log key.
    const own = await verifyTransparentStatement(transparent, { ...options, policy: both, checkpoints: [other.checkpoint(log.size, [w1, w2]), cosigned] })
    const ok = check(own, 'receipt[0].witnessed')
    assert.equal(ok.status, 'ok', JSON.stringify(ok))
    assert.equal(ok.details?.origin, log.origin)
    assert.equal(ok.details?.logKey, log.vkey.split('+').slice(0, 2).join('+'))
    assert.equal(own.ok, true)
  })

  describe('tlog-proof files', () => {
    let proof: string

    before(async () => {
      proof = await log.proofFile(index, log.size, [w1, w2])
    })

    it('verifies a proof for a statement, with the policy quorum', async () => {
      const report = await verifyProof(proof, { statement }, options)
      assert.equal(report.ok, true, JSON.stringify(report.checks))
      assert.deepEqual(report.checks.map((c) => [c.name, c.status, c.verifyCode]), [
        ['issuer-signature', 'ok', 'OK'], ['proof.checkpoint-signature', 'ok', 'OK'], ['proof.witness-quorum', 'ok', 'OK'], ['proof.inclusion', 'ok', 'OK'],
      ])
    })

    it('verifies by entry id with a log key and no policy', async () => {
      const id = entryId(entryBytes(decodeSign1(statement)))
      const report = await verifyProof(proof, { entryId: id }, { logKeys: [log.vkey] })
      assert.equal(report.ok, true)
      const none = await verifyProof(proof, { entryId: id }, {})
      assert.equal(none.ok, false)
      assert.equal(check(none, 'proof.checkpoint-signature').code, 'UNKNOWN_ORIGIN')
      assert.equal(check(none, 'proof.checkpoint-signature').verifyCode, 'NO_LOG_KEY')
      const otherKey = await verifyProof(proof, { entryId: id }, { logKeys: [new TestLog('other.example/log').vkey] })
      assert.equal(check(otherKey, 'proof.checkpoint-signature').verifyCode, 'NO_LOG_KEY')
      const notInPolicy = await verifyProof(proof, { entryId: id }, { policy: parsePolicy(policyText([new TestLog('other.example/log')], [w1], 1)) })
      assert.equal(check(notInPolicy, 'proof.checkpoint-signature').verifyCode, 'ORIGIN_NOT_IN_POLICY')
      assert.equal(check(notInPolicy, 'proof.checkpoint-signature').code, 'UNKNOWN_ORIGIN')
    })

    it('fails without a subject, and a file that is not a proof', async () => {
      for (const subject of [{}, { entryId: 'AB'.repeat(32) }]) {
        const report = await verifyProof(proof, subject, options)
        assert.deepEqual(report.checks.map((c) => [c.name, c.status, c.verifyCode, c.code]), [['entry', 'failed', 'NO_PROOF_SUBJECT', 'MALFORMED']])
        assertCodes(report)
      }
      const notProof = await verifyProof('not a proof\n', { statement }, options)
      assert.equal(check(notProof, 'proof').verifyCode, 'MALFORMED')
    })

    it('fails a tampered inclusion proof', async () => {
      const file = parseProofFile(proof)
      file.proof[0] = sha256Digest(file.proof[0]!)
      const report = await verifyProof(formatProofFile(file), { statement }, options)
      assert.equal(report.ok, false)
      assert.equal(check(report, 'proof.inclusion').code, 'BAD_PROOF')
      assert.equal(check(report, 'proof.inclusion').verifyCode, 'BAD_PROOF')
      assert.equal(check(report, 'proof.checkpoint-signature').status, 'ok')
    })

    it('fails a proof for another entry', async () => {
      const report = await verifyProof(proof, { entryId: toHex(sha256Digest(utf8('x'))) }, options)
      assert.equal(check(report, 'proof.inclusion').status, 'failed')
    })

    it('fails a tampered checkpoint in the proof', async () => {
      const file = parseProofFile(proof)
      const cp = parseCheckpoint(parseNote(file.checkpoint).text)
      const forged = file.checkpoint.replace(toBase64(cp.rootHash), toBase64(sha256Digest(cp.rootHash)))
      const report = await verifyProof(formatProofFile({ ...file, checkpoint: forged }), { statement }, options)
      assert.equal(report.ok, false)
      assert.equal(check(report, 'proof.checkpoint-signature').code, 'BAD_SIGNATURE')
      assert.equal(check(report, 'proof.checkpoint-signature').verifyCode, 'BAD_SIGNATURE')
    })

    it('with now, cosignatures timestamped later do not meet the quorum', async () => {
      const cosignedAt = 1_700_000_000 // the test witnesses' timestamp
      const before = await verifyProof(proof, { statement }, { ...options, now: cosignedAt - 1 })
      assert.equal(before.ok, false)
      assert.equal(check(before, 'proof.witness-quorum').code, 'POLICY')
      const after = await verifyProof(proof, { statement }, { ...options, now: cosignedAt })
      assert.equal(after.ok, true, JSON.stringify(after.checks))
    })

    it('fails when the proof checkpoint misses the quorum', async () => {
      const report = await verifyProof(await log.proofFile(index, log.size, [w3]), { statement }, options)
      assert.equal(report.ok, false)
      assert.equal(check(report, 'proof.witness-quorum').code, 'POLICY')
      assert.equal(check(report, 'proof.witness-quorum').verifyCode, 'POLICY')
    })
  })
})

describe('did:key and key files', () => {
  for (const alg of ['Ed25519', 'ES256'] as const) {
    it(`round-trips a ${alg} did:key`, () => {
      for (let i = 0; i < 8; i++) {
        const pk = portableSignatures.signer(alg, portableSignatures.generateSecretKey(alg)).publicKey
        const did = didKeyFromPublicKey(alg, pk)
        assert.match(did, alg === 'Ed25519' ? /^did:key:z6Mk/ : /^did:key:zDn/)
        const back = publicKeyFromDidKey(did)
        assert.equal(back.algorithm, alg)
        assert.deepEqual(back.publicKey, pk)
        assert.deepEqual(parsePublicKeys(utf8(did))[0]?.publicKey, pk)
      }
    })
  }

  it('rejects malformed did:keys', () => {
    assert.throws(() => publicKeyFromDidKey('did:key:z0OIl'), { code: 'MALFORMED' })
    assert.throws(() => publicKeyFromDidKey('did:web:example.com'), { code: 'MALFORMED' })
    assert.throws(() => publicKeyFromDidKey('did:key:z2J9gaYxrKVpdoG9A4gRnmpnRCcxU6agDtFVVBVdn1JedouoZN7SzcyREXXzWgt3gGiwpoHq7K68X4m32D8HL4XL2h'), { code: 'UNSUPPORTED' })
  })

  it('reads the public part of a private JWK and a JWK Set', () => {
    const jwk = secretKeyJwk('ES256', portableSignatures.generateSecretKey('ES256'))
    const [key] = parsePublicKeys(utf8(JSON.stringify(jwk)))
    assert.equal(key?.algorithm, 'ES256')
    assert.deepEqual(key?.publicKey, signerFromJwk(jwk).key.publicKey)
    const { d: _d, ...pub } = jwk
    assert.equal(parsePublicKeys(utf8(JSON.stringify({ keys: [pub, pub] }))).length, 2)
    assert.throws(() => parsePublicKeys(utf8('{not json')), { code: 'MALFORMED' })
  })

  it('signs hash envelopes with the RFC 9995 headers', () => {
    const issuer = signerFromJwk(secretKeyJwk('ES256', portableSignatures.generateSecretKey('ES256')))
    const digest = sha256Digest(utf8('big artifact'))
    const bytes = signHashEnvelope({ signer: issuer.signer, kid: issuer.key.kid, iss: 'issuer.example', sub: 'a', contentType: 'application/spdx+json', digest, location: 'https://x.example/a' })
    const info = validateStatement(decodeSign1(bytes))
    assert.deepEqual(info.hashEnvelope, { hashAlg: -16, preimageContentType: 'application/spdx+json', location: 'https://x.example/a' })
    assert.deepEqual(decodeSign1(bytes).payload, digest)
  })
})
