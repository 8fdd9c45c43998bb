import assert from 'node:assert/strict'
import {
  NOTE_KEY_TYPE_COSIGNATURE_V1, NOTE_KEY_TYPE_ED25519, POLICY_LIMITS,
  checkCosignedCheckpoint, cosignCheckpoint, cosignatureSigner, formatNote, formatPolicy, formatVkey, isScittError,
  parseNote, parsePolicy, policySatisfied, portableSignatures, sha256Digest, utf8,
  type Note, type NoteSignature,
} from '@scitt/core'
import { loadVector } from '../../../../test/fixtures.js'

const v = loadVector('c2sp-notes')
const code = (c: string) => (e: unknown) => isScittError(e, c as never)
const seed = (label: string): Uint8Array => sha256Digest(utf8(label))
const pub = (label: string): Uint8Array => portableSignatures.signer('Ed25519', seed(label)).publicKey
const witnessVkey = (name: string): string => formatVkey(`${name}.example`, NOTE_KEY_TYPE_COSIGNATURE_V1, pub(name))
const logVkey = (name: string): string => formatVkey(name, NOTE_KEY_TYPE_ED25519, pub(name))
const checkpoint8 = parseNote(v.checkpoint8)
const cosign = (name: string, time = 1700000000): NoteSignature =>
  cosignCheckpoint(checkpoint8.text, cosignatureSigner(`${name}.example`, seed(name), () => time))
const withCosigs = (...names: string[]): Note => ({ ...checkpoint8, signatures: [...checkpoint8.signatures, ...names.map((n) => cosign(n))] })

// The spec's example policy, with real keys.
const EXAMPLE = `log ${v.log_vkey}

witness X1 ${witnessVkey('X1')}
witness X2 ${witnessVkey('X2')}
witness X3 ${witnessVkey('X3')}
group X-witnesses 2 X1 X2 X3

witness Y1 ${witnessVkey('Y1')}
witness Y2 ${witnessVkey('Y2')}
witness Y3 ${witnessVkey('Y3')}
group Y-witnesses any Y1 Y2 Y3

group X-and-Y all X-witnesses Y-witnesses
quorum X-and-Y
`

describe('note/policy', () => {
  it('parses the spec example', () => {
    const policy = parsePolicy(EXAMPLE)
    assert.equal(policy.logs.length, 1)
    assert.equal(policy.logs[0]!.name, 'example.com/scitt-log')
    assert.deepEqual([...policy.witnesses.keys()], ['X1', 'X2', 'X3', 'Y1', 'Y2', 'Y3'])
    assert.equal(policy.witnesses.get('X1')!.keyName, 'X1.example')
    assert.deepEqual([...policy.groups.values()].map((g) => [g.name, g.threshold, g.members.length]),
      [['X-witnesses', 2, 3], ['Y-witnesses', 1, 3], ['X-and-Y', 2, 2]])
    assert.equal(policy.quorum, 'X-and-Y')
  })

  it('evaluates the nested k-of-n quorum', () => {
    const policy = parsePolicy(EXAMPLE)
    const table: Array<[string[], boolean]> = [
      [[], false],
      [['X1', 'X2'], false],
      [['X1', 'Y1'], false],
      [['X1', 'X2', 'Y3'], true],
      [['X2', 'X3', 'Y1', 'Y2'], true],
      [['Y1', 'Y2', 'Y3', 'X3'], false],
      [['X1', 'X2', 'X3', 'Y1', 'Y2', 'Y3'], true],
    ]
    for (const [names, ok] of table) {
      const result = policySatisfied(policy, withCosigs(...names))
      assert.equal(result.ok, ok, names.join(','))
      assert.deepEqual(result.witnesses, [...names].sort())
      assert.deepEqual(result.invalid, [])
    }
  })

  it('fails on an invalid cosignature from a policy witness, ignores unknown ones, and honours `now`', () => {
    const policy = parsePolicy(EXAMPLE)
    const note = withCosigs('X1', 'X2', 'Y1', 'stranger')
    assert.equal(policySatisfied(policy, note).ok, true)
    const forged = { ...note, signatures: note.signatures.map((s) => s.name === 'Y1.example' ? { ...s, signature: cosign('X1').signature } : s) }
    assert.deepEqual(policySatisfied(policy, forged), { ok: false, witnesses: ['X1', 'X2'], invalid: ['Y1'] })
    const late = { ...checkpoint8, signatures: [...checkpoint8.signatures, cosign('X1'), cosign('X2'), cosign('Y1', 1700000100)] }
    assert.equal(policySatisfied(policy, late, 1700000099).ok, false)
    assert.equal(policySatisfied(policy, late, 1700000100).ok, true)
  })

  it('checks a cosigned checkpoint: the fixture passes a w1 quorum', () => {
    const policy = parsePolicy(`log ${v.log_vkey}\nwitness w1 ${v.witness_vkey}\nquorum w1\n`)
    const result = checkCosignedCheckpoint(policy, v.cosigned_checkpoint8)
    assert.equal(result.checkpoint.size, 8)
    assert.deepEqual(result.witnesses, ['w1'])
    assert.equal(result.verified.length, 2)
    assert.throws(() => checkCosignedCheckpoint(policy, v.checkpoint8), code('POLICY'))
    assert.equal(checkCosignedCheckpoint(parsePolicy(`log ${v.log_vkey}\nquorum none\n`), v.checkpoint8).witnesses.length, 0)
  })

  it('checks the origin and the log signature first (UNKNOWN_ORIGIN, BAD_SIGNATURE)', () => {
    const other = parsePolicy(`log ${logVkey('example.com/other')}\nquorum none\n`)
    assert.throws(() => checkCosignedCheckpoint(other, v.checkpoint8), code('UNKNOWN_ORIGIN'))
    // A log key with the right name but another key: the real log's signature is unknown to it.
    const impostor = parsePolicy(`log ${formatVkey('example.com/scitt-log', 1, pub('impostor'))}\nquorum none\n`)
    assert.throws(() => checkCosignedCheckpoint(impostor, v.checkpoint8), code('BAD_SIGNATURE'))
    // Rotation: two keys for one origin, either may sign.
    const rotated = parsePolicy(`log ${formatVkey('example.com/scitt-log', 1, pub('impostor'))}\nlog ${v.log_vkey}\nquorum none\n`)
    assert.equal(checkCosignedCheckpoint(rotated, v.checkpoint8).checkpoint.size, 8)
    // Witness cosignature only, no log signature.
    const policy = parsePolicy(`log ${v.log_vkey}\nwitness w1 ${v.witness_vkey}\nquorum w1\n`)
    const onlyWitness = formatNote({ text: checkpoint8.text, signatures: [parseNote(v.cosigned_checkpoint8).signatures[1]!] })
    assert.throws(() => checkCosignedCheckpoint(policy, onlyWitness), code('BAD_SIGNATURE'))
    assert.throws(() => checkCosignedCheckpoint(policy, 'not a note'), code('MALFORMED'))
  })

  it('accepts comments, blank lines, tabs, leading/trailing space, URLs and a missing final newline', () => {
    const text = `# trust policy\n\n  log\t${v.log_vkey}   https://log.example/  \n\t# indented comment\nwitness w1 ${v.witness_vkey} https://w1.example/\nquorum\tw1`
    const policy = parsePolicy(text)
    assert.equal(policy.logs[0]!.url, 'https://log.example/')
    assert.equal(policy.witnesses.get('w1')!.url, 'https://w1.example/')
    assert.equal(formatPolicy(policy), `log ${v.log_vkey} https://log.example/\nwitness w1 ${v.witness_vkey} https://w1.example/\nquorum w1\n`)
    assert.equal(formatPolicy(parsePolicy(formatPolicy(policy))), formatPolicy(policy))
    assert.equal(parsePolicy('quorum none\n').quorum, null)
    // Names are opaque; "any" is a valid witness name.
    assert.equal(parsePolicy(`witness any ${v.witness_vkey}\ngroup g any any\nquorum g\n`).groups.get('g')!.threshold, 1)
  })

  it('supports 32 logs, 32 witnesses and 32 groups, and caps them', () => {
    const lines: string[] = []
    for (let i = 0; i < 32; i++) lines.push(`log ${logVkey(`log${i}.example`)}`)
    for (let i = 0; i < 32; i++) lines.push(`witness w${i} ${witnessVkey(`w${i}`)}`)
    for (let i = 0; i < 32; i++) lines.push(`group g${i} any ${i === 0 ? 'w0' : `g${i - 1} w${i}`}`)
    lines.push('quorum g31')
    const policy = parsePolicy(lines.join('\n'))
    assert.equal(policy.logs.length, 32)
    assert.equal(policy.groups.size, 32)
    assert.equal(policySatisfied(policy, checkpoint8).ok, false)
    const names = (n: number): string[] => Array.from({ length: n }, (_, i) => `${i}`)
    assert.throws(() => parsePolicy(`${names(POLICY_LIMITS.witnesses + 1).map((n) => `witness w${n} ${witnessVkey(`w${n}`)}`).join('\n')}\nquorum none\n`), code('TOO_LARGE'))
    assert.throws(() => parsePolicy(`# ${'x'.repeat(POLICY_LIMITS.size)}\nquorum none\n`), code('TOO_LARGE'))
  })

  const W1 = `witness w1 ${v.witness_vkey}\n`
  const bad: Array<[string, string, number?, string?]> = [
    ['no quorum line', `log ${v.log_vkey}\n`],
    ['two quorum lines', `${W1}quorum w1\nquorum none\n`, 3],
    ['an undefined quorum', `${W1}quorum w2\n`, 2],
    ['a quorum defined later', `quorum w1\n${W1}`, 1],
    ['an undefined group member', `${W1}group g any w1 w2\nquorum g\n`, 2],
    ['a member defined later', `group g any w1\n${W1}quorum g\n`, 1],
    ['a member listed twice', `${W1}group g 1 w1 w1\nquorum g\n`, 2],
    ['a member of two groups', `${W1}group g any w1\ngroup h any w1\nquorum g\n`, 3],
    ['"none" as a member', `${W1}group g any w1 none\nquorum g\n`, 2],
    ['"none" as a witness name', `witness none ${v.witness_vkey}\nquorum none\n`, 1],
    ['a duplicate witness name', `${W1}witness w1 ${witnessVkey('other')}\nquorum w1\n`, 2],
    ['a group named like a witness', `${W1}group w1 any w1\nquorum w1\n`, 2],
    ['a duplicate witness key', `${W1}witness w2 ${v.witness_vkey}\nquorum w1\n`, 2],
    ['a duplicate witness key under another name', `${W1}witness w2 ${formatVkey('renamed', 4, pub(v.witness_key_seed_label))}\nquorum w1\n`, 2],
    ['a duplicate log key', `log ${v.log_vkey}\nlog ${v.log_vkey}\nquorum none\n`, 2],
    ['k > n', `${W1}group g 2 w1\nquorum g\n`, 2],
    ['k = 0', `${W1}group g 0 w1\nquorum g\n`, 2],
    ['k = 01', `${W1}group g 01 w1\nquorum g\n`, 2],
    ['k = -1', `${W1}group g -1 w1\nquorum g\n`, 2],
    ['k = some', `${W1}group g some w1\nquorum g\n`, 2],
    ['a group without members', `${W1}group g any\nquorum w1\n`, 2],
    ['an unknown keyword', `${W1}witnesses w2 x\nquorum w1\n`, 2],
    ['an uppercase keyword', `${W1}Quorum w1\n`, 2],
    ['a log with too many fields', `log ${v.log_vkey} https://a https://b\nquorum none\n`, 1],
    ['a log without vkey', 'log\nquorum none\n', 1],
    ['a witness without vkey', 'witness w1\nquorum none\n', 1],
    ['a quorum with two names', `${W1}quorum w1 w1\n`, 2],
    ['a log with a witness (0x04) key', `log ${v.witness_vkey}\nquorum none\n`, 1],
    ['a witness with a log (0x01) key', `witness w1 ${v.log_vkey}\nquorum none\n`, 1],
    ['a vkey with a wrong key ID', `log ${v.log_vkey.replace('60212eea', '60212eeb')}\nquorum none\n`, 1],
    ['a vkey with an unsupported type', `log ${v.log_vkey.replace('+AWBe', '+AmBe')}\nquorum none\n`, 1, 'UNSUPPORTED'],
    ['a trailing comment on a line', `${W1}quorum w1 # comment\n`, 2],
    ['a carriage return', `${W1}quorum w1\r\n`],
    ['a DEL character', `${W1}quorum w1\n#\x7f\n`],
    ['a NUL character', `${W1}\0quorum w1\n`],
  ]
  for (const [what, text, line, expected = 'MALFORMED'] of bad) {
    it(`rejects a policy with ${what} (${expected})`, () => {
      assert.throws(() => parsePolicy(text), (e) => {
        assert.ok(isScittError(e, expected as never), String(e))
        if (line !== undefined) assert.match(e.message, new RegExp(`^policy line ${line}:`))
        return true
      })
    })
  }

  it('rejects a policy file that is not UTF-8', () => {
    assert.throws(() => parsePolicy(Uint8Array.of(...utf8('# '), 0xff, 0x0a, ...utf8('quorum none\n'))), code('MALFORMED'))
  })
})
