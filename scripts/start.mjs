#!/usr/bin/env node
// `npm start`: the quick start. Runs one scitt-node on loopback with LevelDB, on embedded defaults, and
// prints a walk-through with the `scitt` CLI. The first run creates DIR (keys 0600, a config that accepts
// any did:key issuer so a newcomer can register with a fresh key); later runs reuse it, data and keys.
// Ctrl-C stops the node cleanly. (The federation devnet replaces this single node in a later release.)
//
// usage: node scripts/start.mjs [--dir DIR] [--port N]      (after npm run build)
import { spawn, spawnSync } from 'node:child_process'
import { existsSync, readFileSync, writeFileSync, openSync } from 'node:fs'
import { join, relative, resolve } from 'node:path'

const root = resolve(new URL('..', import.meta.url).pathname)
const cli = join(root, 'packages/node/dist/cli.js')

function usage (message) {
  if (message) console.error(`start: ${message}`)
  console.error('usage: npm start [-- --dir DIR] [-- --port N]   (defaults: .data/quickstart, port 8080)')
  process.exit(message ? 2 : 0)
}

const args = process.argv.slice(2)
let dir = join(root, '.data/quickstart')
let port = 8080
for (let i = 0; i < args.length; i++) {
  if (args[i] === '--dir' && args[i + 1]) dir = resolve(args[++i])
  else if (args[i] === '--port' && /^\d{1,5}$/.test(args[i + 1] ?? '')) port = Number(args[++i])
  else if (args[i] === '--help' || args[i] === '-h') usage()
  else usage(`unknown argument ${args[i]}`)
}
if (!existsSync(cli)) usage('packages/node is not built: run npm run build (npm start does it for you)')

const config = join(dir, 'config.json')
if (!existsSync(config)) {
  const init = spawnSync(process.execPath, [cli, 'init', '--dir', dir, '--origin', 'localhost/scitt-quickstart', '--sector', 'quickstart', '--port', String(port)], { stdio: 'inherit' })
  if (init.status !== 0) process.exit(init.status ?? 1)
  const parsed = JSON.parse(readFileSync(config, 'utf8'))
  parsed.registration.didKey.enabled = true
  parsed['//quickstart'] = 'written by npm start: any did:key issuer may register (an open registry for trying things out)'
  writeFileSync(config, JSON.stringify(parsed, null, 2) + '\n')
}

const logFile = join(dir, 'node.log')
const out = openSync(logFile, 'a')
// Its own process group: a terminal's Ctrl-C reaches only this script, which stops the node once, cleanly.
const node = spawn(process.execPath, [cli, 'start', '--config', config], { stdio: ['ignore', 'pipe', out], detached: true })
let url
let buffered = ''
node.stdout.on('data', (chunk) => {
  writeFileSync(logFile, chunk, { flag: 'a' })
  if (url !== undefined) return
  buffered += chunk.toString('utf8')
  for (const line of buffered.split('\n')) {
    try {
      const record = JSON.parse(line)
      if (record.msg === 'scitt-node listening') {
        url = record.url
        walkThrough(record)
      }
    } catch {}
  }
})
process.on('exit', () => { if (node.exitCode === null) node.kill('SIGKILL') })
node.on('exit', (code, signal) => {
  if (url === undefined) console.error(`scitt-node exited before it was ready (code ${code ?? signal}); see ${logFile}`)
  process.exit(code ?? 0)
})
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => {
    console.log(`\nstopping the node (${signal})…`)
    node.kill('SIGTERM')
  })
}

function walkThrough (record) {
  const short = (path) => { const r = relative(process.cwd(), path); return r === '' ? '.' : r.startsWith('..') ? path : r }
  const d = short(dir)
  console.log(`
scitt-node is running: ${record.url}   origin ${record.origin}, tree size ${record.treeSize}
  data and keys   ${d}/   (reused by the next npm start)
  logs (NDJSON)   ${short(logFile)}
  try             curl ${record.url}/checkpoint

Register and verify a statement (in another terminal, in this folder):
  npx scitt keygen --out ${d}/issuer.jwk
  echo '{"name": "demo-sbom"}' > ${d}/sbom.json
  npx scitt sign --key ${d}/issuer.jwk --iss did:key --sub demo-app@1.0 --content-type application/spdx+json --out ${d}/sbom.cose ${d}/sbom.json
  npx scitt register --node ${record.url} --wait ${d}/sbom.cose        # prints the entry id
  npx scitt keys --node ${record.url} --out ${d}/node-keys.cbor
  npx scitt get ENTRY_ID --node ${record.url} --statement --out ${d}/sbom.transparent.cose
  npx scitt verify ${d}/sbom.transparent.cose --node-keys ${d}/node-keys.cbor --allow-did-key

Ctrl-C stops the node.`)
}
