#!/usr/bin/env node
/**
 * `scitt-node`: init | start | fsck | devnet. `--help` on every command. Exit codes: 0 ok, 1 failure
 * (fsck found problems, the node failed), 2 usage or input error (bad arguments, a bad config file,
 * a refused key file).
 */
import './p2p/polyfill.js' // first: libp2p 3 needs Promise.withResolvers, which Node 20 lacks
import { mkdirSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { pino } from 'pino'
import { SIGNATURE_ALGORITHMS, type SignatureAlgorithm } from '@scitt/core'
import { ConfigError, loadConfig } from './config.js'
import { DEVNET_INFO_FILE, DEVNET_NAME, DEVNET_POLICY_FILE, Devnet, devnetWalkThrough } from './devnet.js'
import { fsckNode } from './fsck.js'
import { CONFIG_FILE, initNode } from './init.js'
import { KeyFileError } from './keys.js'
import { createLogger } from './logger.js'
import { ScittNode } from './node.js'
import { useNodeSha256 } from '@scitt/node-crypto'

const USAGE: Record<string, string> = {
  main: `usage: scitt-node <command> [options]

commands:
  init --dir DIR --origin ORIGIN [--sector NAME]   generate keys (0600) and a config file
  start --config FILE                              run the node
  fsck --dir DIR [--repair]                        re-derive every root from the stored entries
  devnet [--dir DIR] [--base-port N]               run a 4-node federation on 127.0.0.1 (try things out)

run "scitt-node <command> --help" for a command's options`,
  init: `usage: scitt-node init --dir DIR --origin ORIGIN [--sector NAME] [--receipt-alg ES256|ES384|Ed25519] [--port N] [--json]

Generates the log key (Ed25519), the receipt key (ES256 by default), the witness key (Ed25519) and the
libp2p peer key in DIR, each in its own file with mode 0600, and DIR/${CONFIG_FILE}. Refuses to
overwrite existing files. The config's "federation" section is written disabled: set federation.name
(and federation.trustPolicy, a C2SP tlog-policy file) to join a federation over libp2p.`,
  start: `usage: scitt-node start --config FILE [--log-level LEVEL]

Runs the node; logs NDJSON to stdout. SIGINT/SIGTERM stop it cleanly: no new requests, pending
registrations drained, a last checkpoint published, the database closed.

With federation.name set in the config, the node also joins the federation scitt/<name> over libp2p
(TCP, Noise, Yamux, gossipsub) on federation.listen (default /ip4/127.0.0.1/tcp/0), dials
federation.bootstrap, announces itself, gossips its checkpoints, asks the witnesses of
federation.trustPolicy to cosign them, and (role "witness") cosigns the policy's other origins. It
then serves POST /add-checkpoint, GET /evidence and GET /federation; GET /checkpoint carries the
cosignatures gathered. The "scitt-node listening" log line gives its peer id and multiaddrs.

With role "mirror", it keeps a verified copy of the logs federation.mirror lists (fetched from their
origins or other mirrors, every root checked against the origin's signed checkpoints), serves them
under /logs/<hex sha256(origin)>/ and answers GET /entries/{id} for their entries with the origin's
own receipts; the origins in federation.crossRegister also have their entries registered into this
node's log when its registration policy accepts them.

federation fields: name, listen [multiaddr], bootstrap [multiaddr/p2p/<id>], trustPolicy (file),
roles (subset of witness, mirror, sector; default ["witness"]), mirror [origin], crossRegister
[origin], heartbeatMs (1000), announceMs (10000), timeoutMs (5000).`,
  fsck: `usage: scitt-node fsck --dir DIR [--config FILE] [--repair] [--json]

Re-derives every root of the log from its stored entries (the entry bundle files) and checks
checkpoints, signatures, seals, the tile files, node records, the checkpoint file and the entry
index. Files beyond the committed state (what a crash leaves; the node deletes them when it starts)
are listed, not failures. --repair deletes them, rewrites a lagging checkpoint file and rewrites
tile files and node records that differ from the re-derived ones (never entry bundles). Run it while
the node is stopped. DIR is the node directory (its ${CONFIG_FILE} is read unless --config is given).
Exit code 1 when anything does not match.`,
  devnet: `usage: scitt-node devnet [--dir DIR] [--base-port N] [--log-level LEVEL]

Runs a federation "${DEVNET_NAME}" in this process on 127.0.0.1: an IoT, a firmware and a container
registry (each accepts any did:key issuer) and one independent witness, each with its own keys,
LevelDB and config under DIR/<node> (default .data/devnet), HTTP on ports N..N+3 (default 8080; 0 =
any free ports). They cross-witness each other to the quorum of DIR/${DEVNET_POLICY_FILE} (a C2SP
tlog-policy that clients pass to scitt verify --policy). Once they are connected and cosigning, it
writes DIR/${DEVNET_INFO_FILE} (URLs, multiaddrs, keys) and prints a walk-through with the scitt CLI.
Logs (NDJSON) go to DIR/devnet.log. Restarting reuses the keys and data; SIGINT/SIGTERM stop every
node cleanly.

example:
  scitt-node devnet --dir .data/devnet --base-port 8080`,
}

class UsageError extends Error {}

interface Parsed { flags: Map<string, string | true> }

function parseArgs (args: string[], allowed: Record<string, 'value' | 'flag'>): Parsed {
  const flags = new Map<string, string | true>()
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!
    const name = arg.startsWith('--') ? arg.slice(2) : undefined
    if (name === undefined || !Object.hasOwn(allowed, name)) throw new UsageError(`unknown argument ${arg}`)
    if (allowed[name] === 'flag') {
      flags.set(name, true)
    } else {
      const value = args[++i]
      if (value === undefined || value.startsWith('--')) throw new UsageError(`${arg} needs a value`)
      flags.set(name, value)
    }
  }
  return { flags }
}

function required (p: Parsed, name: string): string {
  const value = p.flags.get(name)
  if (typeof value !== 'string') throw new UsageError(`--${name} is required`)
  return value
}

async function init (args: string[]): Promise<number> {
  const p = parseArgs(args, { dir: 'value', origin: 'value', sector: 'value', 'receipt-alg': 'value', port: 'value', json: 'flag' })
  const dir = resolve(required(p, 'dir'))
  const origin = required(p, 'origin')
  if (/[\s+]/.test(origin)) throw new UsageError('--origin must not contain spaces or "+"')
  const alg = p.flags.get('receipt-alg')
  if (alg !== undefined && !SIGNATURE_ALGORITHMS.includes(alg as SignatureAlgorithm)) throw new UsageError(`--receipt-alg must be one of ${SIGNATURE_ALGORITHMS.join(', ')}`)
  const port = p.flags.get('port')
  if (port !== undefined && !/^(0|[1-9][0-9]{0,4})$/.test(port as string)) throw new UsageError('--port must be 0..65535')
  const sector = p.flags.get('sector')
  const result = initNode({
    dir, origin,
    ...(typeof sector === 'string' ? { sector } : {}),
    ...(alg === undefined ? {} : { receiptAlgorithm: alg as SignatureAlgorithm }),
    ...(port === undefined ? {} : { port: Number(port) }),
  })
  if (p.flags.has('json')) {
    console.log(JSON.stringify(result))
  } else {
    console.log(`initialised ${dir}\n  config      ${result.config}\n  log vkey    ${result.logVkey}\n  witness     ${result.witnessVkey}`)
  }
  return 0
}

async function start (args: string[]): Promise<number> {
  const p = parseArgs(args, { config: 'value', 'log-level': 'value' })
  const config = loadConfig(required(p, 'config'))
  const level = p.flags.get('log-level')
  const logger = createLogger({ level: typeof level === 'string' ? level : 'info', destination: pino.destination({ dest: 1, sync: true }) })
  const signal = stopSignal(() => { logger.warn('second signal: exiting at once') })
  const node = await ScittNode.start({ config, logger, defaultMetrics: true })
  logger.info({ signal: await signal }, 'signal received')
  try {
    await node.stop()
  } catch (err) {
    logger.error({ err }, 'stop failed')
    return 1
  }
  return 0
}

/**
 * Resolves with the first SIGINT or SIGTERM. The handlers are installed at once, so a signal that
 * arrives while the services start is not lost (they stop once started); a second signal exits at once.
 */
function stopSignal (onSecond: () => void): Promise<string> {
  return new Promise((resolve) => {
    let signals = 0
    const onSignal = (signal: string): void => {
      if (++signals > 1) {
        onSecond()
        process.exit(1)
      }
      resolve(signal)
    }
    process.on('SIGINT', onSignal)
    process.on('SIGTERM', onSignal)
  })
}

async function fsckCommand (args: string[]): Promise<number> {
  const p = parseArgs(args, { dir: 'value', config: 'value', json: 'flag', repair: 'flag' })
  const dir = resolve(required(p, 'dir'))
  const configFile = p.flags.get('config')
  const config = loadConfig(typeof configFile === 'string' ? configFile : join(dir, CONFIG_FILE))
  const report = await fsckNode(config, { repair: p.flags.has('repair') })
  if (p.flags.has('json')) {
    console.log(JSON.stringify(report))
  } else {
    for (const [name, r] of [['', report] as const, ...report.mirrors.map((m) => [`mirror of ${m.origin}: `, m] as const)]) {
      console.log(`${r.ok ? 'ok' : 'FAILED'}: ${name}size ${r.size}, ${r.entries} entries, ${r.checkpoints} checkpoints checked`)
      for (const line of r.errors) console.log(`  ${line}`)
      for (const line of r.beyond) console.log(`  beyond the committed state: ${line}${p.flags.has('repair') ? '' : ' (--repair deletes it)'}`)
      for (const line of r.repaired) console.log(`  repaired: ${line}`)
    }
  }
  return report.ok ? 0 : 1
}

async function devnet (args: string[]): Promise<number> {
  const p = parseArgs(args, { dir: 'value', 'base-port': 'value', 'log-level': 'value' })
  const dir = resolve(typeof p.flags.get('dir') === 'string' ? p.flags.get('dir') as string : '.data/devnet')
  const port = p.flags.get('base-port') ?? '8080'
  if (!/^(0|[1-9][0-9]{0,4})$/.test(port as string) || Number(port) > 65532) throw new UsageError('--base-port must be 0..65532')
  const level = p.flags.get('log-level')
  mkdirSync(dir, { recursive: true, mode: 0o700 })
  const logFile = join(dir, 'devnet.log')
  const logger = createLogger({ level: typeof level === 'string' ? level : 'info', destination: pino.destination({ dest: logFile, sync: true }) })
  const signal = stopSignal(() => { console.error('second signal: exiting at once') })
  const net = await Devnet.start({ dir, basePort: Number(port), logger })
  console.log(devnetWalkThrough(net, process.cwd(), logFile))
  console.log(`\nstopping the devnet (${await signal})…`)
  try {
    await net.stop()
  } catch (err) {
    console.error(`scitt-node devnet: stop failed: ${(err as Error).message}`)
    return 1
  }
  console.log('stopped')
  return 0
}

const COMMANDS: Record<string, (args: string[]) => Promise<number>> = { init, start, fsck: fsckCommand, devnet }

export async function main (argv: string[]): Promise<number> {
  const [command, ...args] = argv
  if (command === undefined || command === '--help' || command === '-h' || command === 'help') {
    console.log(USAGE.main)
    return command === undefined ? 2 : 0
  }
  const run = COMMANDS[command]
  if (run === undefined) {
    console.error(`scitt-node: unknown command ${command}\n\n${USAGE.main}`)
    return 2
  }
  if (args.includes('--help') || args.includes('-h')) {
    console.log(USAGE[command])
    return 0
  }
  try {
    return await run(args)
  } catch (err) {
    if (err instanceof UsageError) {
      console.error(`scitt-node ${command}: ${err.message}\n\n${USAGE[command]}`)
      return 2
    }
    if (err instanceof ConfigError || err instanceof KeyFileError) {
      console.error(`scitt-node ${command}: ${err.message}`)
      return 2
    }
    console.error(`scitt-node ${command}: ${(err as Error).message ?? String(err)}`)
    return 1
  }
}

useNodeSha256()
process.exitCode = await main(process.argv.slice(2))
