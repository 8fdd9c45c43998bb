#!/usr/bin/env node
// `npm start`: the quick start. Runs the devnet (`scitt-node devnet`: an IoT, a firmware and a container
// registry and one independent witness, federated on loopback, each with its own keys and LevelDB) and
// prints a walk-through with the `scitt` CLI. The first run creates DIR (keys 0600, configs whose
// registries accept any did:key issuer, the shared trust policy DIR/devnet.policy); later runs reuse
// keys and data. Ctrl-C stops every node cleanly.
//
// usage: node scripts/start.mjs [--dir DIR] [--port N]      (after npm run build; N..N+3 are the HTTP ports)
import { spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import { join, resolve } from 'node:path'

const root = resolve(new URL('..', import.meta.url).pathname)
const cli = join(root, 'packages/node/bin/scitt-node.js') // the command as installed (its V8 flags)
const built = join(root, 'packages/node/dist/cli.js')

function usage (message) {
  if (message) console.error(`start: ${message}`)
  console.error('usage: npm start [-- --dir DIR] [-- --port N]   (defaults: .data/devnet, ports 8080..8083)')
  process.exit(message ? 2 : 0)
}

const args = process.argv.slice(2)
let dir = join(root, '.data/devnet')
let port = 8080
for (let i = 0; i < args.length; i++) {
  if (args[i] === '--dir' && args[i + 1]) dir = resolve(args[++i])
  else if (args[i] === '--port' && /^\d{1,5}$/.test(args[i + 1] ?? '')) port = Number(args[++i])
  else if (args[i] === '--help' || args[i] === '-h') usage()
  else usage(`unknown argument ${args[i]}`)
}
if (!existsSync(built)) usage('packages/node is not built: run npm run build (npm start does it for you)')

// Its own process group: a terminal's Ctrl-C reaches only this script, which stops the devnet once, cleanly.
const devnet = spawn(cli, ['devnet', '--dir', dir, '--base-port', String(port)], { stdio: ['ignore', 'inherit', 'inherit'], detached: true })
process.on('exit', () => { if (devnet.exitCode === null) devnet.kill('SIGKILL') })
devnet.on('exit', (code, signal) => process.exit(code ?? (signal === null ? 0 : 1)))
for (const signal of ['SIGINT', 'SIGTERM']) {
  let sent = false
  process.on(signal, () => {
    if (!sent) devnet.kill('SIGTERM')
    sent = true
  })
}
