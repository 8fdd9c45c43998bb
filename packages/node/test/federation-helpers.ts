/**
 * Multi-node test harness: real nodes in this process on 127.0.0.1, started from config files with a
 * federation section (ScittNode: HTTP, LevelDB log, and the federation over real libp2p/TCP, its
 * witness state and evidence in the node's LevelDB), with a trust policy in C2SP tlog-policy syntax
 * built from the nodes' keys.
 */
import '../src/p2p/polyfill.js'
import { readFileSync, writeFileSync, cpSync, rmSync } from 'node:fs'
import { basename, join } from 'node:path'
import {
  ed25519NoteVerifier, formatVkey, parseSkey, NOTE_KEY_TYPE_COSIGNATURE_V1, type NoteVerifier,
} from '@scitt/core'
import { nodeSignatures } from '@scitt/node-crypto'
import { CONFIG_FILE, ScittNode, initNode, loadConfig, witnessKeyName, type Federation } from '@scitt/node'
import type { Issuer } from './helpers.js'

export interface NodeKeys {
  dir: string
  origin: string
  logVkey: string
  logVerifier: NoteVerifier
  witnessVkey: string
  witnessName: string
}

/** Creates a node directory (keys and config) for `origin`, allowing `issuer` to register. */
export function initFederatedDir (dir: string, origin: string, issuer: Issuer): NodeKeys {
  const result = initNode({ dir, origin, port: 0 })
  const raw = JSON.parse(readFileSync(result.config, 'utf8'))
  raw.log.batchAgeMs = 5
  raw.log.sync = false
  raw.limits.verifyWorkers = 1
  raw.limits.rateLimit = null
  raw.limits.addCheckpoint = { rateLimit: null, maxInFlightPerClient: 16 } // 5 ms batches: more checkpoints per second than a log with the defaults
  raw.registration.issuers = [{ iss: issuer.iss, keys: [{ jwk: issuer.jwk }] }]
  writeFileSync(result.config, JSON.stringify(raw))
  const logSeed = parseSkey(readFileSync(join(dir, 'log.key'), 'utf8').trim(), nodeSignatures).seed
  const witnessSeed = parseSkey(readFileSync(join(dir, 'witness.key'), 'utf8').trim(), nodeSignatures).seed
  const witnessName = witnessKeyName(origin)
  const witnessVkey = formatVkey(witnessName, NOTE_KEY_TYPE_COSIGNATURE_V1, nodeSignatures.signer('Ed25519', witnessSeed).publicKey)
  if (result.witnessVkey !== witnessVkey) throw new Error(`init reported ${result.witnessVkey}, expected the cosignature/v1 vkey ${witnessVkey}`)
  return {
    dir,
    origin,
    logVkey: result.logVkey,
    logVerifier: ed25519NoteVerifier(origin, nodeSignatures.signer('Ed25519', logSeed).publicKey, nodeSignatures),
    witnessVkey,
    witnessName,
  }
}

/** A policy: every log, the given witnesses, quorum k of them. */
export function policyText (logs: NodeKeys[], witnesses: NodeKeys[], k: number): string {
  return [
    ...logs.map((l) => `log ${l.logVkey}`),
    ...witnesses.map((w, i) => `witness w${i} ${w.witnessVkey}`),
    `group q ${k} ${witnesses.map((_, i) => `w${i}`).join(' ')}`,
    'quorum q',
    '',
  ].join('\n')
}

export interface FederatedNode {
  keys: NodeKeys
  node: ScittNode
  federation: Federation
  /** The config file the node was started from. */
  configFile: string
  stop: () => Promise<void>
}

export interface StartFederatedOptions {
  name: string
  policy: string
  bootstrap: string[]
  /** Data directory to use instead of the one in the node directory (forks). */
  dataDir?: string
  /** A different libp2p peer key (written to its own 0600 file). */
  peerSeed?: Uint8Array
  heartbeatMs?: number
  announceMs?: number
  /** Default ["witness"] (plus "mirror" when `mirror` is given). */
  roles?: string[]
  /** Origins to mirror (federation.mirror). */
  mirror?: string[]
  /** Mirrored origins to cross-register (federation.crossRegister). */
  crossRegister?: string[]
  /** Last changes to the raw config before it is written. */
  configure?: (raw: Record<string, any>) => void
  /** ScittNode's longest wait for requests in flight when stopping. */
  stopTimeoutMs?: number
}

/**
 * Starts a real node through its public entry: writes the federation section (and the trust policy
 * file) into a config file in the node directory, loads it with `loadConfig` and calls
 * `ScittNode.start`, which runs the federation.
 */
export async function startFederated (keys: NodeKeys, o: StartFederatedOptions): Promise<FederatedNode> {
  const raw = JSON.parse(readFileSync(join(keys.dir, CONFIG_FILE), 'utf8'))
  const suffix = o.dataDir === undefined ? '' : `-${basename(o.dataDir)}`
  writeFileSync(join(keys.dir, `policy${suffix}.txt`), o.policy)
  if (o.dataDir !== undefined) {
    raw.dataDir = o.dataDir
    raw.keys.logHead = `log-head${suffix}.json` // another data dir: another record of what it signed (a fork's operator)
  }
  if (o.peerSeed !== undefined) {
    const peerFile = join(keys.dir, `peer${suffix}.key`)
    rmSync(peerFile, { force: true })
    writeFileSync(peerFile, o.peerSeed, { mode: 0o600 })
    raw.keys.peer = peerFile
  }
  raw.federation = {
    name: o.name,
    listen: ['/ip4/127.0.0.1/tcp/0'],
    bootstrap: o.bootstrap,
    trustPolicy: `policy${suffix}.txt`,
    roles: o.roles ?? (o.mirror === undefined ? ['witness'] : ['witness', 'mirror']),
    heartbeatMs: o.heartbeatMs ?? 200,
    announceMs: o.announceMs ?? 500,
    timeoutMs: 3000,
    ...(o.mirror === undefined ? {} : { mirror: o.mirror }),
    ...(o.crossRegister === undefined ? {} : { crossRegister: o.crossRegister }),
  }
  o.configure?.(raw)
  const configFile = join(keys.dir, `config${suffix}.json`)
  writeFileSync(configFile, JSON.stringify(raw))
  const node = await ScittNode.start({ config: loadConfig(configFile), ...(o.stopTimeoutMs === undefined ? {} : { stopTimeoutMs: o.stopTimeoutMs }) })
  const federation = node.federation
  if (federation === undefined) {
    await node.stop()
    throw new Error('the node did not start its federation')
  }
  return { keys, node, federation, configFile, stop: async () => { await node.stop() } }
}

/** Copies a stopped node's data directory (LevelDB) to a new path (a fork of its log). */
export function copyData (from: string, to: string): void {
  rmSync(to, { recursive: true, force: true })
  cpSync(from, to, { recursive: true })
}

/** Resolves when `check` is true (polled every 20 ms), rejects after `ms`. */
export async function until (check: () => boolean | Promise<boolean>, ms: number, what: string): Promise<void> {
  const deadline = Date.now() + ms
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
}
