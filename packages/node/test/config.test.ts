import assert from 'node:assert/strict'
import { chmodSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { ConfigError, KeyFileError, RegistrationPolicy, initNode, loadConfig, loadReceiptKey, loadSkey, parseConfig, readKeyFile } from '@scitt/node'
import { didKeyFromPublicKey, formatVkey, isScittError, utf8, NOTE_KEY_TYPE_ED25519, type StatementInfo } from '@scitt/core'
import { nodeSignatures } from '@scitt/node-crypto'

describe('config', () => {
  const base = { origin: 'example.com/log' }
  const bad: Array<[string, Record<string, unknown>, string]> = [
    ['missing origin', {}, 'origin'],
    ['origin with a space', { origin: 'a b' }, 'origin'],
    ['port out of range', { ...base, http: { port: 70000 } }, 'http.port'],
    ['port as a string', { ...base, http: { port: '8080' } }, 'http.port'],
    ['unknown field', { ...base, htpp: {} }, 'htpp'],
    ['unknown nested field', { ...base, log: { batchsize: 3 } }, 'log.batchsize'],
    ['batch size 0', { ...base, log: { batchSize: 0 } }, 'log.batchSize'],
    ['sync not a boolean', { ...base, log: { sync: 'yes' } }, 'log.sync'],
    ['statement size over 65 535', { ...base, registration: { maxStatementSize: 70000 } }, 'registration.maxStatementSize'],
    ['unknown algorithm', { ...base, registration: { algorithms: ['RS256'] } }, 'registration.algorithms[0]'],
    ['issuer without keys', { ...base, registration: { issuers: [{ iss: 'x' }] } }, 'registration.issuers[0].keys'],
    ['issuer key with both forms', { ...base, registration: { issuers: [{ iss: 'x', keys: [{ jwk: {}, coseKey: 'AA' }] }] } }, 'registration.issuers[0].keys[0]'],
    ['did:key algorithm', { ...base, registration: { didKey: { enabled: true, algorithms: ['ES384'] } } }, 'registration.didKey.algorithms[0]'],
    ['rate limit', { ...base, limits: { rateLimit: { perSecond: -1 } } }, 'limits.rateLimit.perSecond'],
    ['public URL', { ...base, http: { publicUrl: 'not a url' } }, 'http.publicUrl'],
    ['federation listen', { ...base, federation: { listen: '/ip4/0.0.0.0' } }, 'federation.listen'],
    ['federation listen without a name', { ...base, federation: { listen: ['/ip4/127.0.0.1/tcp/0'] } }, 'federation.name'],
    ['federation name with a slash', { ...base, federation: { name: 'a/b' } }, 'federation.name'],
    ['federation listen not a multiaddr', { ...base, federation: { name: 'n', listen: ['127.0.0.1:4001'] } }, 'federation.listen[0]'],
    ['federation bootstrap without /p2p', { ...base, federation: { name: 'n', bootstrap: ['/ip4/127.0.0.1/tcp/4001'] } }, 'federation.bootstrap[0]'],
    ['federation role', { ...base, federation: { name: 'n', roles: ['witness', 'oracle'] } }, 'federation.roles[1]'],
    ['federation role twice', { ...base, federation: { name: 'n', roles: ['witness', 'witness'] } }, 'federation.roles'],
    ['federation heartbeat', { ...base, federation: { name: 'n', heartbeatMs: 1.5 } }, 'federation.heartbeatMs'],
    ['federation announce', { ...base, federation: { name: 'n', announceMs: 0 } }, 'federation.announceMs'],
    ['federation timeout', { ...base, federation: { name: 'n', timeoutMs: '5s' } }, 'federation.timeoutMs'],
    ['federation unknown field', { ...base, federation: { name: 'n', lissen: [] } }, 'federation.lissen'],
    ['federation trust policy missing', { ...base, federation: { name: 'n', trustPolicy: 'no-such-policy.txt' } }, 'federation.trustPolicy'],
  ]
  for (const [name, value, field] of bad) {
    it(`names the field: ${name}`, () => {
      assert.throws(() => parseConfig(value, '/tmp'), (err: unknown) => {
        assert.ok(err instanceof ConfigError)
        assert.equal(err.field, field)
        assert.ok(err.message.includes(field))
        return true
      })
    })
  }

  it('fills defaults, resolves paths against the config dir and ignores "//" comments', () => {
    const config = parseConfig({ ...base, '//': 'comment', keys: { '//log': 'x', log: 'k/log.key' } }, '/etc/scitt')
    assert.equal(config.issuer, 'example.com/log')
    assert.equal(config.keys.log, '/etc/scitt/k/log.key')
    assert.equal(config.dataDir, '/etc/scitt/data')
    assert.equal(config.registration.maxStatementSize, 65535)
    assert.equal(config.limits.registrationWaitMs, 500)
    assert.deepEqual(config.limits.rateLimit, { perSecond: 50, burst: 100, maxClients: 10000 })
    assert.equal(config.registration.didKey.enabled, false)
  })

  it('leaves the federation off without a section or a name, and fills its defaults when named', () => {
    assert.equal(parseConfig(base, '/tmp').federation, undefined)
    const off = parseConfig({ ...base, federation: { bootstrap: [], roles: ['witness'] } }, '/tmp')
    assert.equal(off.federation, undefined)
    assert.equal(off.keys.peer, undefined)
    assert.equal(off.keys.witness, undefined)
    const on = parseConfig({ ...base, federation: { name: 'devnet' } }, '/etc/scitt')
    assert.equal(on.federation?.name, 'devnet')
    assert.deepEqual(on.federation.listen, ['/ip4/127.0.0.1/tcp/0'])
    assert.deepEqual(on.federation.bootstrap, [])
    assert.deepEqual(on.federation.roles, ['witness'])
    assert.deepEqual([on.federation.heartbeatMs, on.federation.announceMs, on.federation.timeoutMs], [1000, 10000, 5000])
    assert.equal(on.federation.trustPolicy, undefined)
    assert.deepEqual(on.federation.trust.origins, [])
    assert.equal(on.keys.peer, '/etc/scitt/peer.key')
    assert.equal(on.keys.witness, '/etc/scitt/witness.key')
    const sector = parseConfig({ ...base, federation: { name: 'devnet', roles: ['sector'], listen: [] } }, '/etc/scitt')
    assert.equal(sector.keys.witness, undefined, 'no witness key without the witness role')
    assert.deepEqual(sector.federation?.listen, [])
  })

  it('reads the trust policy relative to the config file, and names federation.trustPolicy when it is bad', () => {
    const dir = mkdtempSync(join(tmpdir(), 'scitt-config-'))
    try {
      const vkey = initNode({ dir: join(dir, 'n'), origin: 'example.com/other' }).logVkey
      writeFileSync(join(dir, 'trust.policy'), `log ${vkey}\nquorum none\n`)
      const config = parseConfig({ ...base, federation: { name: 'n', trustPolicy: 'trust.policy' } }, dir, readFileSync)
      assert.equal(config.federation?.trustPolicy, join(dir, 'trust.policy'))
      assert.deepEqual(config.federation.trust.origins, ['example.com/other'])
      writeFileSync(join(dir, 'bad.policy'), 'log not-a-vkey\n')
      assert.throws(() => parseConfig({ ...base, federation: { name: 'n', trustPolicy: 'bad.policy' } }, dir, readFileSync),
        (err: unknown) => err instanceof ConfigError && err.field === 'federation.trustPolicy' && /bad\.policy/.test(err.message))
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })

  it('does no file I/O itself: the files the config names come through the reader it is given', () => {
    const vkey = formatVkey('example.com/other', NOTE_KEY_TYPE_ED25519, nodeSignatures.signer('Ed25519', new Uint8Array(32).fill(7)).publicKey)
    const read: string[] = []
    const files = new Map([['/etc/scitt/trust.policy', `log ${vkey}\nquorum none\n`]])
    const config = parseConfig({ ...base, federation: { name: 'n', trustPolicy: 'trust.policy' } }, '/etc/scitt', (path) => {
      read.push(path)
      const text = files.get(path)
      if (text === undefined) throw Object.assign(new Error(`no ${path}`), { code: 'ENOENT' })
      return utf8(text)
    })
    assert.deepEqual(read, ['/etc/scitt/trust.policy'])
    assert.deepEqual(config.federation?.trust.origins, ['example.com/other'])
    assert.throws(() => parseConfig({ ...base, federation: { name: 'n', trustPolicy: 'trust.policy' } }, '/etc/scitt'),
      (err: unknown) => err instanceof ConfigError && err.field === 'federation.trustPolicy' && /no files were given/.test(err.message))
  })

  it('checks federation.mirror and federation.crossRegister against the trust policy and the roles', () => {
    const dir = mkdtempSync(join(tmpdir(), 'scitt-config-'))
    try {
      const vkey = initNode({ dir: join(dir, 'n'), origin: 'example.com/other' }).logVkey
      const own = initNode({ dir: join(dir, 'o'), origin: 'example.com/log' }).logVkey
      writeFileSync(join(dir, 'trust.policy'), `log ${vkey}\nlog ${own}\nquorum none\n`)
      const fed = (extra: Record<string, unknown>): Record<string, unknown> => ({ ...base, federation: { name: 'n', trustPolicy: 'trust.policy', roles: ['mirror'], ...extra } })
      const config = parseConfig(fed({ mirror: ['example.com/other'], crossRegister: ['example.com/other'] }), dir, readFileSync)
      assert.deepEqual([config.federation?.mirror, config.federation?.crossRegister], [['example.com/other'], ['example.com/other']])
      assert.deepEqual(parseConfig(fed({}), dir, readFileSync).federation?.mirror, [])
      for (const [extra, field, message] of [
        [{ mirror: ['example.com/unknown'] }, 'federation.mirror[0]', /"log" line in the trust policy/],
        [{ mirror: ['example.com/log'] }, 'federation.mirror[0]', /own log/],
        [{ mirror: ['example.com/other', 'example.com/other'] }, 'federation.mirror', /at most once/],
        [{ mirror: ['example.com/other'], roles: ['witness'] }, 'federation.roles', /"mirror" among the roles/],
        [{ crossRegister: ['example.com/other'] }, 'federation.crossRegister[0]', /listed in federation.mirror/],
        [{ mirror: 'example.com/other' }, 'federation.mirror', /array/],
      ] as Array<[Record<string, unknown>, string, RegExp]>) {
        assert.throws(() => parseConfig(fed(extra), dir, readFileSync), (err: unknown) => err instanceof ConfigError && err.field === field && message.test(err.message), field)
      }
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })

  it('rejects an issuer key that is not a public key, naming the field', () => {
    const config = parseConfig({ ...base, registration: { issuers: [{ iss: 'x', keys: [{ jwk: { kty: 'OKP', crv: 'Ed25519', x: 'AAAA' } }] }] } }, '/tmp')
    assert.throws(() => new RegistrationPolicy(config.registration), (err: unknown) => err instanceof ConfigError && err.field === 'registration.issuers[0].keys[0]')
  })

  it('reports unreadable files and invalid JSON as ConfigError', () => {
    assert.throws(() => loadConfig('/nonexistent/config.json'), ConfigError)
    const dir = mkdtempSync(join(tmpdir(), 'scitt-config-'))
    try {
      writeFileSync(join(dir, 'c.json'), '{ "origin": ')
      assert.throws(() => loadConfig(join(dir, 'c.json')), /not valid JSON/)
    } finally {
      rmSync(dir, { recursive: true })
    }
  })
})

describe('key files', () => {
  let dir: string
  beforeEach(() => { dir = mkdtempSync(join(tmpdir(), 'scitt-keys-')) })
  afterEach(() => { rmSync(dir, { recursive: true, force: true }) })

  it('init writes four 0600 key files and a config that loads', () => {
    const result = initNode({ dir, origin: 'example.com/log', sector: 'iot' })
    for (const file of Object.values(result.keys)) assert.equal(statSync(file).mode & 0o777, 0o600, file)
    assert.equal(readFileSync(result.keys.peer).length, 32)
    assert.match(result.logVkey, /^example\.com\/log\+[0-9a-f]{8}\+/)
    assert.match(result.witnessVkey, /^example\.com\/log\/witness\+/)
    const config = loadConfig(result.config)
    assert.equal(config.sector, 'iot')
    assert.equal(loadReceiptKey(config.keys.receipt).coseKey.algorithm, 'ES256')
    assert.ok(loadSkey(config.keys.log, 'example.com/log').startsWith('PRIVATE+KEY+example.com/log+'))
    assert.doesNotMatch(readFileSync(result.config, 'utf8'), /PRIVATE/)
  })

  it('refuses to overwrite existing keys', () => {
    initNode({ dir, origin: 'example.com/log' })
    const before = readFileSync(join(dir, 'log.key'))
    assert.throws(() => initNode({ dir, origin: 'example.com/log' }), KeyFileError)
    rmSync(join(dir, 'config.json'))
    assert.throws(() => initNode({ dir, origin: 'example.com/log' }), /refusing to overwrite/)
    assert.deepEqual(readFileSync(join(dir, 'log.key')), before)
  })

  it('refuses a key file readable by group or others', () => {
    const result = initNode({ dir, origin: 'example.com/log', receiptAlgorithm: 'Ed25519' })
    chmodSync(result.keys.receipt, 0o644)
    assert.throws(() => loadReceiptKey(result.keys.receipt), /mode 644.*chmod 600/)
    chmodSync(result.keys.log, 0o640)
    assert.throws(() => readKeyFile(result.keys.log), KeyFileError)
    assert.throws(() => loadSkey(result.keys.witness, 'other.example/witness'), /is for/)
  })
})

describe('registration policy', () => {
  const info = (iss: string, alg: StatementInfo['alg'] = 'Ed25519'): StatementInfo => ({ alg, iss, sub: 's', kid: new Uint8Array([1]), contentType: 'application/json' })

  it('refuses did:key issuers unless enabled, and their disallowed algorithms', () => {
    const did = didKeyFromPublicKey('Ed25519', new Uint8Array(32).fill(7))
    const off = new RegistrationPolicy(parseConfig({ origin: 'o' }, '/').registration)
    assert.throws(() => off.keyFor(info(did)), (err: unknown) => isScittError(err, 'POLICY'))
    const es256Only = new RegistrationPolicy(parseConfig({ origin: 'o', registration: { didKey: { enabled: true, algorithms: ['ES256'] } } }, '/').registration)
    assert.throws(() => es256Only.keyFor(info(did)), (err: unknown) => isScittError(err, 'POLICY'))
    const on = new RegistrationPolicy(parseConfig({ origin: 'o', registration: { didKey: { enabled: true } } }, '/').registration)
    assert.equal(on.keyFor(info(did)).algorithm, 'Ed25519')
  })

  it('requires a hash envelope when the policy says so', () => {
    const policy = new RegistrationPolicy(parseConfig({ origin: 'o', registration: { requireHashEnvelope: true, didKey: { enabled: true } } }, '/').registration)
    const did = didKeyFromPublicKey('Ed25519', new Uint8Array(32).fill(7))
    assert.throws(() => policy.keyFor(info(did)), (err: unknown) => isScittError(err, 'POLICY') && /hash envelope/.test(err.message))
    assert.equal(policy.keyFor({ ...info(did), hashEnvelope: { hashAlg: -16 } }).algorithm, 'Ed25519')
  })
})
