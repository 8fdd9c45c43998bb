/**
 * `npm run bench [-- --json FILE] [-- SUITE ...]`: runs every packages/<pkg>/bench/<suite>.bench.ts
 * (or only the named suites), prints one table, and with --json writes the same rows as JSON.
 * It runs with the V8 flags the `scitt-node` command runs with (packages/node/bin/scitt-node.js), so
 * that the node measured in process is the node as operators run it; processes a suite starts as
 * other nodes get them too (process.execArgv).
 */
import { readdirSync, writeFileSync, existsSync } from 'node:fs'
import { join, basename } from 'node:path'
import { pathToFileURL } from 'node:url'
import { Bench, formatRow } from './bench-lib.js'

const args = process.argv.slice(2)
let jsonFile: string | undefined
const only: string[] = []
for (let i = 0; i < args.length; i++) {
  const arg = args[i]!
  if (arg === '--json') jsonFile = args[++i]
  else if (arg === '--help' || arg === '-h') {
    console.log('usage: npm run bench [-- --json FILE] [-- SUITE ...]\n  suites: ' + suites().map((s) => s.name).join(', '))
    process.exit(0)
  } else only.push(arg)
}
if (args.includes('--json') && jsonFile === undefined) {
  console.error('--json needs a file name')
  process.exit(2)
}

function suites (): { name: string, file: string }[] {
  const root = new URL('../packages/', import.meta.url)
  const found: { name: string, file: string }[] = []
  for (const pkg of readdirSync(root)) {
    const dir = join(root.pathname, pkg, 'bench')
    if (!existsSync(dir)) continue
    for (const f of readdirSync(dir).sort()) {
      if (f.endsWith('.bench.ts')) found.push({ name: basename(f, '.bench.ts'), file: join(dir, f) })
    }
  }
  return found
}

const order = ['core', 'log']
const selected = suites()
  .filter((s) => only.length === 0 || only.includes(s.name))
  .sort((a, b) => (order.indexOf(a.name) + 1 || 99) - (order.indexOf(b.name) + 1 || 99))
if (only.length > 0 && selected.length !== only.length) {
  console.error(`unknown suite in ${only.join(', ')}; known: ${suites().map((s) => s.name).join(', ')}`)
  process.exit(2)
}

const bench = new Bench()
console.log(`scitt-federation bench — node ${process.version}, ${(await import('node:os')).cpus().length} cores, ${new Date().toISOString()}\n`)
for (const s of selected) {
  bench.suite = s.name
  const mod = await import(pathToFileURL(s.file).href) as { default: (b: Bench) => Promise<void> }
  await mod.default(bench)
}
console.log('\nsummary\n' + bench.rows.map(formatRow).join('\n'))
if (jsonFile !== undefined) {
  writeFileSync(jsonFile, JSON.stringify({ node: process.version, date: new Date().toISOString(), rows: bench.rows }, null, 2) + '\n')
  console.log(`\nwrote ${jsonFile}`)
}
