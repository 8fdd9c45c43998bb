#!/usr/bin/env node
// Keeps the package arrows of docs/architecture.md "Arrows" one-way. For every packages/<pkg>/src file it checks that
// each import is relative (inside the package), a Node built-in the package may use, or a package declared
// in its package.json, and that the forbidden imports below never appear. Exit 1 with a list on failure.
// Usage: node scripts/check-deps.mjs [--root DIR]
import { readFileSync, readdirSync, existsSync, statSync } from 'node:fs'
import { join, relative } from 'node:path'

const RULES = {
  '@scitt/core': { builtins: false, forbid: [/^level$/, /-level$/, /libp2p/, /^pino$/, /^@scitt\//] },
  '@scitt/node-crypto': { builtins: true, forbid: [/^level$/, /-level$/, /libp2p/, /^@scitt\/(?!core$)/] },
  '@scitt/log': { builtins: true, forbid: [/libp2p/, /^node:(http|https|http2|net|dgram)$/, /^@scitt\/(client|node)$/] },
  '@scitt/client': { builtins: true, forbid: [/^level$/, /-level$/, /libp2p/, /^@scitt\/(log|node)$/] },
  '@scitt/node': { builtins: true, forbid: [] },
}

// Inside @scitt/node the arrows point one way too: a part may import parts of its own rank or lower
// (rank 0: the shared pieces; then federation, mirror, http; the composing files rank highest). A file
// at the top of src/ is ranked by its name.
const NODE_RANKS = {
  'p2p': 0, 'witness': 0, 'registration': 0, 'keys': 0, 'logger': 0, 'metrics': 0, 'rate-limit': 0, 'read-limited': 0, 'held-logs': 0, 'history-guard': 0, 'store-layout': 0, 'config': 0, 'admission': 0,
  'federation': 1, 'read-budget': 1,
  'mirror': 2,
  'http': 3,
  'node': 4, 'init': 4, 'fsck': 4, 'devnet': 4, 'cli': 4, 'index': 4,
}
// config.ts reads the trust policy (federation/trust.ts imports nothing of the node) and bounds the
// read limits by the largest read reservation (a constant of read-budget.ts).
const NODE_ALLOWED = [['config', 'federation/trust'], ['config', 'read-budget']]

/** The part of a node source file: its directory under src/, or its name for a file at the top. */
function nodePart (relFromSrc) {
  const parts = relFromSrc.split('/')
  return parts.length > 1 ? parts[0] : parts[0].replace(/\.(ts|mts|js|mjs)$/, '')
}

const args = process.argv.slice(2)
const root = args[0] === '--root' && args[1] ? args[1] : new URL('..', import.meta.url).pathname
const IMPORT = /(?:^|[\s;])(?:import|export)\s[^'"`;]*?from\s*['"]([^'"]+)['"]|(?:^|[\s;(=])import\s*\(\s*['"]([^'"]+)['"]\s*\)|(?:^|[\s;])import\s*['"]([^'"]+)['"]/gm

function* files (dir) {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name)
    if (statSync(path).isDirectory()) yield * files(path)
    else if (/\.(ts|mts|js|mjs)$/.test(name) && !name.endsWith('.d.ts')) yield path
  }
}

const problems = []
let checked = 0
const pkgsDir = join(root, 'packages')
for (const dir of readdirSync(pkgsDir)) {
  const manifestPath = join(pkgsDir, dir, 'package.json')
  if (!existsSync(manifestPath)) continue
  const manifest = JSON.parse(readFileSync(manifestPath, 'utf8'))
  const rule = RULES[manifest.name]
  if (rule === undefined) {
    problems.push(`${manifest.name}: no dependency rule in scripts/check-deps.mjs; add one`)
    continue
  }
  const declared = new Set(Object.keys(manifest.dependencies ?? {}))
  const src = join(pkgsDir, dir, 'src')
  if (!existsSync(src)) continue
  for (const file of files(src)) {
    checked++
    const text = readFileSync(file, 'utf8').replace(/\/\*[\s\S]*?\*\//g, '').replace(/^\s*\/\/.*$/gm, '')
    for (const m of text.matchAll(IMPORT)) {
      const spec = m[1] ?? m[2] ?? m[3]
      const where = `${relative(root, file)}: '${spec}'`
      if (spec.startsWith('.')) {
        if (manifest.name === '@scitt/node') {
          const from = relative(src, file)
          const to = relative(src, join(file, '..', spec)).replace(/\.js$/, '')
          const [a, b] = [nodePart(from), nodePart(to)]
          const rankA = NODE_RANKS[a]
          const rankB = NODE_RANKS[b]
          if (rankA === undefined) problems.push(`${relative(root, file)}: part '${a}' has no rank in scripts/check-deps.mjs; add one`)
          else if (rankB !== undefined && rankB > rankA && !NODE_ALLOWED.some(([x, y]) => x === a && to === y)) {
            problems.push(`${where}: ${a} must not import ${b} (the arrows inside @scitt/node point down: ${Object.entries(NODE_RANKS).filter(([, r]) => r > 0).map(([n, r]) => `${n} ${r}`).join(', ')})`)
          }
        }
        continue
      }
      if (rule.forbid.some((re) => re.test(spec))) { problems.push(`${where} is forbidden in ${manifest.name}`); continue }
      if (spec.startsWith('node:')) {
        if (!rule.builtins) problems.push(`${where}: ${manifest.name} must stay portable (no node:*)`)
        continue
      }
      const name = spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : spec.split('/')[0]
      if (!declared.has(name)) problems.push(`${where}: '${name}' is not in ${manifest.name}'s dependencies (or is a bare Node built-in: use node:)`)
    }
  }
}

if (problems.length > 0) {
  console.error(`check-deps: ${problems.length} problem(s)\n  ` + problems.join('\n  '))
  process.exit(1)
}
console.log(`check-deps: ${checked} source files follow the package arrows`)
