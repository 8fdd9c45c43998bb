import assert from 'node:assert/strict'
import { readFileSync, readdirSync } from 'node:fs'
import { fileURLToPath } from 'node:url'

/** The SDK's root export must run in a browser: no node:* anywhere in what src/index.ts reaches. */
describe('portability of the SDK root', () => {
  it('imports no node:* module, directly or through its relative imports', () => {
    const src = fileURLToPath(new URL('../src/', import.meta.url))
    const seen = new Set<string>()
    const visit = (file: string): void => {
      if (seen.has(file)) return
      seen.add(file)
      const text = readFileSync(src + file, 'utf8')
      for (const m of text.matchAll(/from '([^']+)'/g)) {
        const spec = m[1]!
        assert.ok(!spec.startsWith('node:') && spec !== '@scitt/node-crypto', `${file} imports ${spec}`)
        if (spec.startsWith('./')) visit(spec.slice(2).replace(/\.js$/, '.ts'))
      }
    }
    visit('index.ts')
    assert.ok(seen.has('verify.ts') && seen.has('follower.ts'))
    assert.ok(readdirSync(src).includes('state-file.ts'), 'Node-only helpers live beside it, outside the root export')
  })
})
