/**
 * The operator deployment (docker-compose.yml, Dockerfile, configs/): no Docker engine runs here, so the
 * compose file is parsed and checked instead. Every service has its own volume, a /readyz health check
 * and its config mounted from configs/; every config parses with the node's own rules (once the shared
 * policy template is filled with real keys, as the operator does from `scitt-node init`) and matches
 * the devnet topology: names, sectors, roles, mirrors and cross-registration, open registration, one
 * bootstrap witness.
 */
import '../packages/node/src/p2p/polyfill.js'
import assert from 'node:assert/strict'
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { initNode, parseConfig } from '@scitt/node'
import { DEVNET_NODES } from '../packages/node/src/devnet.js'

const root = new URL('..', import.meta.url).pathname

type Yaml = string | Yaml[] | { [key: string]: Yaml }

/**
 * The YAML subset docker-compose.yml is written in: block maps and lists by two-space indentation,
 * plain or double-quoted scalars, flow lists of double-quoted strings, and "#" comment lines.
 */
function parseYaml (text: string): Yaml {
  const lines = text.split('\n').flatMap((raw, i) => {
    if (/^\s*(#.*)?$/.test(raw)) return []
    const indent = raw.length - raw.trimStart().length
    if (indent % 2 !== 0 || raw.includes('\t')) throw new Error(`line ${i + 1}: bad indentation`)
    return [{ indent, text: raw.trim(), n: i + 1 }]
  })
  let at = 0
  const scalar = (v: string, n: number): Yaml => {
    if (v.startsWith('[')) {
      try {
        return JSON.parse(v) as string[]
      } catch {
        throw new Error(`line ${n}: unsupported flow list ${v}`)
      }
    }
    if (v.startsWith('"')) return JSON.parse(v) as string
    if (/[&*{}|>]/.test(v[0]!)) throw new Error(`line ${n}: unsupported YAML ${v}`)
    return v
  }
  const block = (indent: number): Yaml => {
    const first = lines[at]!
    if (first.text.startsWith('- ')) {
      const list: Yaml[] = []
      while (at < lines.length && lines[at]!.indent === indent && lines[at]!.text.startsWith('- ')) {
        list.push(scalar(lines[at]!.text.slice(2), lines[at]!.n))
        at++
      }
      return list
    }
    const map: Record<string, Yaml> = {}
    while (at < lines.length && lines[at]!.indent === indent) {
      const { text: t, n } = lines[at]!
      const m = /^([A-Za-z0-9_.-]+):(?: (.*))?$/.exec(t)
      if (m === null) throw new Error(`line ${n}: expected "key:" or "key: value"`)
      if (Object.hasOwn(map, m[1]!)) throw new Error(`line ${n}: duplicate key ${m[1]}`)
      at++
      if (m[2] !== undefined) map[m[1]!] = scalar(m[2], n)
      else if (at < lines.length && lines[at]!.indent > indent) map[m[1]!] = block(lines[at]!.indent)
      else map[m[1]!] = {}
    }
    return map
  }
  const doc = block(0)
  if (at !== lines.length) throw new Error(`line ${lines[at]!.n}: unexpected indentation`)
  return doc
}

const asMap = (v: Yaml | undefined, what: string): Record<string, Yaml> => {
  assert.ok(typeof v === 'object' && v !== null && !Array.isArray(v), `${what} is a map`)
  return v
}
const asList = (v: Yaml | undefined, what: string): string[] => {
  assert.ok(Array.isArray(v) && v.every((x) => typeof x === 'string'), `${what} is a list of strings`)
  return v
}

describe('deployment: docker-compose.yml, Dockerfile and configs/ (devnet topology)', function () {
  this.timeout(20_000)
  const compose = asMap(parseYaml(readFileSync(join(root, 'docker-compose.yml'), 'utf8')), 'the compose file')
  const services = asMap(compose.services, 'services')

  it('the mini YAML parser reads what it supports and refuses the rest', () => {
    assert.deepEqual(parseYaml('# c\na:\n  b: "x y"\n  c: ["1", "2"]\n  d:\n    - e\n    - f\ng: h\n'), { a: { b: 'x y', c: ['1', '2'], d: ['e', 'f'] }, g: 'h' })
    assert.throws(() => parseYaml('a: *anchor\n'), /unsupported/)
    assert.throws(() => parseYaml('a: 1\na: 2\n'), /duplicate/)
    assert.throws(() => parseYaml('a:\n   b: 1\n'), /indentation/)
  })

  it('runs the four devnet nodes, one volume each, with /readyz health checks and configs from configs/', () => {
    assert.deepEqual(Object.keys(services).sort(), DEVNET_NODES.map((n) => n.name).sort())
    const volumes = asMap(compose.volumes, 'volumes')
    const used = new Set<string>()
    for (const [name, value] of Object.entries(services)) {
      const s = asMap(value, name)
      assert.equal(s.build, '.')
      assert.deepEqual(asList(s.command, `${name}.command`), ['start', '--config', `/etc/scitt/${name}.json`])
      const mounts = asList(s.volumes, `${name}.volumes`)
      assert.ok(mounts.includes('./configs:/etc/scitt:ro'), `${name} mounts configs/`)
      const data = mounts.filter((m) => m.endsWith(':/data'))
      assert.equal(data.length, 1, `${name} has one data volume`)
      const volume = data[0]!.split(':')[0]!
      assert.ok(Object.hasOwn(volumes, volume), `${name}'s volume ${volume} is declared`)
      assert.ok(!used.has(volume), `${name}'s volume is its own`)
      used.add(volume)
      const test = asList(asMap(s.healthcheck, `${name}.healthcheck`).test, `${name}.healthcheck.test`)
      assert.ok(test.join(' ').includes('http://127.0.0.1:8080/readyz'), `${name} checks /readyz`)
      assert.ok(existsSync(join(root, 'configs', `${name}.json`)), `configs/${name}.json exists`)
    }
    const dockerfile = readFileSync(join(root, 'Dockerfile'), 'utf8')
    assert.match(dockerfile, /^FROM node:20\b/m)
    assert.match(dockerfile, /npm ci && npm run build/)
    assert.match(dockerfile, /^USER node$/m, 'the node does not run as root')
    assert.ok(dockerfile.indexOf('chown node:node /data') < dockerfile.indexOf('USER node'), 'the volume belongs to that user')
    // The image runs the command as installed: its shebang carries the node's V8 flags and malloc tunable.
    assert.match(dockerfile, /^ENTRYPOINT \["\/app\/packages\/node\/bin\/scitt-node\.js"\]/m)
    const bin = join(root, 'packages/node/bin/scitt-node.js')
    assert.match(readFileSync(bin, 'utf8'), /^#!\/usr\/bin\/env -S GLIBC_TUNABLES=glibc\.malloc\.mxfast=0 node --max-semi-space-size=\d+\n/)
    assert.ok((statSync(bin).mode & 0o111) !== 0, 'the command is executable')
  })

  it('every config parses with the node rules (policy filled from init) and matches the devnet topology', () => {
    const template = readFileSync(join(root, 'configs/federation.policy'), 'utf8')
    const tmp = mkdtempSync(join(tmpdir(), 'scitt-compose-'))
    try {
      // What the operator does: init each node, then put the printed vkeys into the policy.
      let policy = template
      for (const spec of DEVNET_NODES) {
        const init = initNode({ dir: join(tmp, spec.name), origin: `scitt.example/${spec.name}` })
        const upper = spec.name.toUpperCase()
        assert.ok(policy.includes(`${upper}_LOG_VKEY`) && policy.includes(`${upper}_WITNESS_VKEY`), `the policy has ${spec.name}'s placeholders`)
        policy = policy.replace(`${upper}_LOG_VKEY`, init.logVkey).replace(`${upper}_WITNESS_VKEY`, init.witnessVkey)
      }
      assert.doesNotMatch(policy, /[A-Z]+_(LOG|WITNESS)_VKEY/)
      writeFileSync(join(tmp, 'federation.policy'), policy)
      for (const spec of DEVNET_NODES) {
        const raw = JSON.parse(readFileSync(join(root, 'configs', `${spec.name}.json`), 'utf8')) as Record<string, unknown>
        const config = parseConfig(raw, tmp, readFileSync) // configs/ is mounted at /etc/scitt beside the filled policy
        assert.equal(config.origin, `scitt.example/${spec.name}`)
        assert.equal(config.sector, spec.sector)
        assert.equal(config.http.port, 8080)
        assert.equal(config.keys.log, '/data/log.key')
        assert.ok(config.dataDir.startsWith('/data/'))
        assert.equal(config.registration.didKey.enabled, spec.openRegistration)
        const fed = config.federation!
        assert.ok(fed !== undefined, `${spec.name} joins the federation`)
        assert.deepEqual(fed.roles, spec.roles)
        assert.deepEqual(fed.mirror, spec.mirror.map((name) => `scitt.example/${name}`))
        assert.deepEqual(fed.crossRegister, spec.crossRegister.map((name) => `scitt.example/${name}`))
        assert.deepEqual(fed.trust.origins.sort(), DEVNET_NODES.map((n) => `scitt.example/${n.name}`).sort())
        assert.equal(fed.trust.witnesses.length, DEVNET_NODES.length)
        assert.deepEqual(fed.bootstrap, spec.name === 'witness' ? [] : ['/dns4/witness/tcp/4001/p2p/WITNESS_PEER_ID'])
      }
    } finally {
      rmSync(tmp, { recursive: true, force: true })
    }
  })
})
