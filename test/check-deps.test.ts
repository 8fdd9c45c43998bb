import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { mkdtempSync, mkdirSync, writeFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

const script = new URL('../scripts/check-deps.mjs', import.meta.url).pathname

function run (root?: string): { status: number | null, output: string } {
  const r = spawnSync(process.execPath, root === undefined ? [script] : [script, '--root', root], { encoding: 'utf8' })
  return { status: r.status, output: r.stdout + r.stderr }
}

function pkg (root: string, dir: string, name: string, deps: Record<string, string>, source: string): void {
  mkdirSync(join(root, 'packages', dir, 'src'), { recursive: true })
  writeFileSync(join(root, 'packages', dir, 'package.json'), JSON.stringify({ name, dependencies: deps }))
  writeFileSync(join(root, 'packages', dir, 'src', 'index.ts'), source)
}

describe('scripts/check-deps', () => {
  it('passes on this repository', () => {
    const r = run()
    assert.equal(r.status, 0, r.output)
  })

  it('fails on each kind of broken arrow', () => {
    const root = mkdtempSync(join(tmpdir(), 'check-deps-'))
    try {
      pkg(root, 'core', '@scitt/core', { '@noble/hashes': '1' }, [
        "import { sha256 } from '@noble/hashes/sha2.js'",
        "import { readFileSync } from 'node:fs'",
        "import { Level } from 'level'",
        "export { x } from '@scitt/log'",
        "const lazy = await import('cbor-x')",
      ].join('\n'))
      pkg(root, 'log', '@scitt/log', { '@scitt/core': '0' }, "import { createLibp2p } from 'libp2p'\nimport http from 'node:http'\n")
      const r = run(root)
      assert.equal(r.status, 1)
      assert.match(r.output, /core\/src\/index\.ts: 'node:fs': @scitt\/core must stay portable/)
      assert.match(r.output, /'level' is forbidden in @scitt\/core/)
      assert.match(r.output, /'@scitt\/log' is forbidden in @scitt\/core/)
      assert.match(r.output, /'cbor-x' is not in @scitt\/core's dependencies/)
      assert.match(r.output, /'libp2p' is forbidden in @scitt\/log/)
      assert.match(r.output, /'node:http' is forbidden in @scitt\/log/)
      assert.doesNotMatch(r.output, /@noble/)
      assert.match(r.output, /6 problem\(s\)/)
    } finally {
      rmSync(root, { recursive: true, force: true })
    }
  })

  it('fails when an arrow inside @scitt/node points up (federation → mirror, mirror → http)', () => {
    const root = mkdtempSync(join(tmpdir(), 'check-deps-node-'))
    try {
      pkg(root, 'node', '@scitt/node', {}, "export * from './node.js'\n")
      const src = join(root, 'packages', 'node', 'src')
      for (const dir of ['federation', 'mirror', 'http']) mkdirSync(join(src, dir))
      writeFileSync(join(src, 'node.ts'), "import { m } from './mirror/mirror.js'\nimport { f } from './federation/federation.js'\n")
      writeFileSync(join(src, 'federation', 'federation.ts'), "import type { Mirror } from '../mirror/mirror.js'\n")
      writeFileSync(join(src, 'mirror', 'mirror.ts'), "import { f } from '../federation/federation.js'\nimport { s } from '../http/server.js'\n")
      writeFileSync(join(src, 'http', 'server.ts'), "import { m } from '../mirror/mirror.js'\n")
      const r = run(root)
      assert.equal(r.status, 1)
      assert.match(r.output, /federation\/federation\.ts: '\.\.\/mirror\/mirror\.js': federation must not import mirror/)
      assert.match(r.output, /mirror\/mirror\.ts: '\.\.\/http\/server\.js': mirror must not import http/)
      assert.match(r.output, /2 problem\(s\)/, 'node → anything, mirror → federation and http → mirror are allowed')
    } finally {
      rmSync(root, { recursive: true, force: true })
    }
  })
})
