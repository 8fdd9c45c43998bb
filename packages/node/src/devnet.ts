/**
 * `scitt-node devnet`: a whole federation in one process on 127.0.0.1: an IoT registry, a
 * firmware registry, a container registry and one independent witness, each a real ScittNode (its own
 * keys from `initNode`, LevelDB, config file and HTTP port) federated over libp2p/TCP as `scitt-devnet`.
 *
 * DIR/<name>/ holds each node's keys, config.json and data; DIR/devnet.policy is the shared C2SP
 * tlog-policy (every node's log vkey, every node's witness vkey, quorum 2 of the 4 witnesses: each
 * registry also witnesses the others); DIR/devnet.json describes the running network. The first run
 * creates the keys; later runs reuse keys and data (the configs' ports and bootstrap are rewritten on
 * each start). The witness starts first and the others dial its multiaddrs; `Devnet.start` resolves
 * once every node is connected to the three others and every log's checkpoint meets the quorum.
 */
import './p2p/polyfill.js'
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join, relative } from 'node:path'
import { encodeCoseKey, parseNote, toBase64Url, vkeyFromSkey } from '@scitt/core'
import { nodeSignatures } from '@scitt/node-crypto'
import { loadConfig, type FederationRole } from './config.js'
import { CONFIG_FILE, initNode } from './init.js'
import { KEY_FILES, loadSkey, witnessKeyName, witnessVkeyFromSkey } from './keys.js'
import { silentLogger, type Logger } from './logger.js'
import { ScittNode } from './node.js'

export const DEVNET_NAME = 'scitt-devnet'
export const DEVNET_POLICY_FILE = 'devnet.policy'
export const DEVNET_INFO_FILE = 'devnet.json'
/** Cosignatures each checkpoint needs, out of the four nodes' witness keys. */
export const DEVNET_QUORUM = 2

export interface DevnetNodeSpec {
  name: string
  sector: string | undefined
  origin: string
  roles: FederationRole[]
  /** The registries accept any did:key issuer; the witness takes no registrations. */
  openRegistration: boolean
  /** Names of the nodes whose logs this node mirrors (federation.mirror). */
  mirror: string[]
  /** Of those, the ones whose entries it cross-registers into its own log (federation.crossRegister). */
  crossRegister: string[]
}

/** The topology (configs/ and docker-compose.yml follow it; a test checks they match). The witness is last. */
export const DEVNET_NODES: readonly DevnetNodeSpec[] = [
  { name: 'iot', sector: 'iot', origin: 'devnet.localhost/iot', roles: ['witness', 'sector', 'mirror'], openRegistration: true, mirror: ['firmware', 'containers'], crossRegister: [] },
  { name: 'firmware', sector: 'firmware', origin: 'devnet.localhost/firmware', roles: ['witness', 'sector', 'mirror'], openRegistration: true, mirror: ['iot', 'containers'], crossRegister: ['iot'] },
  { name: 'containers', sector: 'containers', origin: 'devnet.localhost/containers', roles: ['witness', 'sector', 'mirror'], openRegistration: true, mirror: ['iot', 'firmware'], crossRegister: [] },
  { name: 'witness', sector: undefined, origin: 'devnet.localhost/witness', roles: ['witness', 'mirror'], openRegistration: false, mirror: ['iot', 'firmware', 'containers'], crossRegister: [] },
]

/** The origins of the devnet nodes named in `names`. */
function origins (names: readonly string[]): string[] {
  return names.map((name) => DEVNET_NODES.find((n) => n.name === name)!.origin)
}

export interface DevnetNodeInfo {
  name: string
  sector: string | null
  origin: string
  url: string
  multiaddr: string
  peerId: string
  logVkey: string
  witnessVkey: string
  /** The receipt key as a COSE_Key, base64url. */
  receiptKey: string
  /** Origins whose logs it mirrors (it answers for their entries too). */
  mirrors: string[]
  /** Of those, the ones whose entries it also registers into its own log. */
  crossRegisters: string[]
}

export interface DevnetInfo {
  federation: string
  topics: { checkpoints: string, evidence: string, announce: string }
  policy: string
  nodes: DevnetNodeInfo[]
}

export interface DevnetOptions {
  /** Created if missing; reused when it holds a devnet. */
  dir: string
  /** HTTP ports basePort+0..3 in DEVNET_NODES order; 0 = any free ports. */
  basePort: number
  /** One logger for all nodes (each logs with a `node` field); default silent. */
  logger?: Logger
  /** Longest wait for the mesh and the first cosigned checkpoints (default 30 s). */
  readyTimeoutMs?: number
}

interface NodeKeys { logVkey: string, witnessVkey: string }

/** Creates the node directory on first use, and reads its public keys. */
function prepareNode (dir: string, spec: DevnetNodeSpec): NodeKeys {
  if (!existsSync(join(dir, CONFIG_FILE))) initNode({ dir, origin: spec.origin, ...(spec.sector === undefined ? {} : { sector: spec.sector }) })
  return {
    logVkey: vkeyFromSkey(loadSkey(join(dir, KEY_FILES.log), spec.origin), nodeSignatures),
    witnessVkey: witnessVkeyFromSkey(loadSkey(join(dir, KEY_FILES.witness), witnessKeyName(spec.origin))),
  }
}

/** The shared trust policy (C2SP tlog-policy): every log, every witness, quorum DEVNET_QUORUM of them. */
export function devnetPolicy (keys: readonly NodeKeys[]): string {
  return [
    `# ${DEVNET_NAME} trust policy (C2SP tlog-policy), written by scitt-node devnet`,
    ...keys.map((k) => `log ${k.logVkey}`),
    ...keys.map((k, i) => `witness ${DEVNET_NODES[i]!.name} ${k.witnessVkey}`),
    `group devnet ${DEVNET_QUORUM} ${DEVNET_NODES.map((n) => n.name).join(' ')}`,
    'quorum devnet',
    '',
  ].join('\n')
}

/** Rewrites the devnet-owned fields of a node's config (port, open registration, federation) and loads it. */
function writeConfig (file: string, spec: DevnetNodeSpec, port: number, bootstrap: string[]): ReturnType<typeof loadConfig> {
  const raw = JSON.parse(readFileSync(file, 'utf8')) as { http: { port: number }, registration: { didKey: { enabled: boolean } }, federation: unknown, [field: string]: unknown }
  raw['//devnet'] = 'written by scitt-node devnet: http.port, registration.didKey.enabled and federation are rewritten at each start'
  raw.http.port = port
  raw.registration.didKey.enabled = spec.openRegistration
  raw.federation = {
    name: DEVNET_NAME,
    listen: ['/ip4/127.0.0.1/tcp/0'],
    bootstrap,
    trustPolicy: `../${DEVNET_POLICY_FILE}`,
    roles: spec.roles,
    mirror: origins(spec.mirror),
    crossRegister: origins(spec.crossRegister),
    heartbeatMs: 500,
    announceMs: 2000,
    timeoutMs: 5000,
  }
  writeFileSync(file, `${JSON.stringify(raw, null, 2)}\n`)
  return loadConfig(file)
}

async function until (check: () => boolean, deadline: number, what: () => string): Promise<void> {
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`devnet not ready: timed out waiting for ${what()}`)
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
}

export class Devnet {
  readonly dir: string
  readonly nodes: ScittNode[]
  readonly info: DevnetInfo

  private constructor (dir: string, nodes: ScittNode[], info: DevnetInfo) {
    this.dir = dir
    this.nodes = nodes
    this.info = info
  }

  /** Starts the four nodes, waits until they are meshed and cosigning, writes devnet.json. Errors leave nothing running. */
  static async start (options: DevnetOptions): Promise<Devnet> {
    const { dir, basePort } = options
    if (!Number.isSafeInteger(basePort) || basePort < 0 || basePort + DEVNET_NODES.length - 1 > 65535) throw new RangeError('basePort must be 0..65532')
    const logger = options.logger ?? silentLogger()
    mkdirSync(dir, { recursive: true, mode: 0o700 })
    const keys = DEVNET_NODES.map((spec) => prepareNode(join(dir, spec.name), spec))
    const policyFile = join(dir, DEVNET_POLICY_FILE)
    writeFileSync(policyFile, devnetPolicy(keys))

    const started = new Map<string, ScittNode>()
    const startNode = async (i: number, bootstrap: string[]): Promise<ScittNode> => {
      const spec = DEVNET_NODES[i]!
      const config = writeConfig(join(dir, spec.name, CONFIG_FILE), spec, basePort === 0 ? 0 : basePort + i, bootstrap)
      const node = await ScittNode.start({ config, logger: logger.child({ node: spec.name }) })
      started.set(spec.name, node)
      return node
    }
    try {
      const witnessIndex = DEVNET_NODES.length - 1
      const witness = await startNode(witnessIndex, [])
      const bootstrap = witness.federation!.multiaddrs
      for (let i = 0; i < witnessIndex; i++) await startNode(i, bootstrap)
      const nodes = DEVNET_NODES.map((spec) => started.get(spec.name)!)
      const deadline = Date.now() + (options.readyTimeoutMs ?? 30_000)
      const feds = nodes.map((n) => n.federation!)
      await until(() => feds.every((f) => f.network.getPeers().length >= feds.length - 1),
        deadline, () => `every node to connect to the ${feds.length - 1} others (peers: ${feds.map((f, i) => `${DEVNET_NODES[i]!.name} ${f.network.getPeers().length}`).join(', ')})`)
      const quorate = (i: number): boolean => {
        const note = feds[i]!.cosignedCheckpoint()
        return note !== undefined && nodes[i]!.config.federation!.trust.quorum(parseNote(note)).ok
      }
      await until(() => feds.every((_, i) => quorate(i)), deadline,
        () => `a first checkpoint cosigned by ${DEVNET_QUORUM} witnesses on every log (missing: ${feds.flatMap((_, i) => quorate(i) ? [] : [DEVNET_NODES[i]!.name]).join(', ')})`)
      const info: DevnetInfo = {
        federation: DEVNET_NAME,
        topics: feds[0]!.topics,
        policy: policyFile,
        nodes: nodes.map((node, i) => ({
          name: DEVNET_NODES[i]!.name,
          sector: DEVNET_NODES[i]!.sector ?? null,
          origin: node.config.origin,
          url: node.url,
          multiaddr: `${feds[i]!.multiaddrs[0] ?? ''}`,
          peerId: feds[i]!.peerId,
          logVkey: keys[i]!.logVkey,
          witnessVkey: keys[i]!.witnessVkey,
          receiptKey: toBase64Url(encodeCoseKey(node.receiptKey.coseKey)),
          mirrors: origins(DEVNET_NODES[i]!.mirror),
          crossRegisters: origins(DEVNET_NODES[i]!.crossRegister),
        })),
      }
      writeFileSync(join(dir, DEVNET_INFO_FILE), `${JSON.stringify(info, null, 2)}\n`)
      logger.info({ federation: DEVNET_NAME, nodes: info.nodes.map((n) => ({ name: n.name, url: n.url })) }, 'devnet ready')
      return new Devnet(dir, nodes, info)
    } catch (err) {
      for (const node of started.values()) await node.stop().catch(() => {})
      throw err
    }
  }

  node (name: string): ScittNode {
    const i = DEVNET_NODES.findIndex((n) => n.name === name)
    if (i < 0) throw new RangeError(`no devnet node ${name}`)
    return this.nodes[i]!
  }

  /** Stops every node (registries first, the witness last); each stop is clean (see ScittNode.stop). */
  async stop (): Promise<void> {
    const errors: unknown[] = []
    for (const node of this.nodes) {
      await node.stop().catch((err: unknown) => { errors.push(err) })
    }
    if (errors.length > 0) throw errors[0]
  }
}

/**
 * What to do next, printed by `scitt-node devnet` (the quick-start test runs its `npx scitt` lines as
 * printed): register at the IoT registry, then fetch from the firmware registry, which mirrors IoT and
 * cross-registers its entries: the transparent statement carries IoT's receipt and firmware's own,
 * verified offline with both registries' keys, and the offline proof verifies with the witness quorum.
 */
export function devnetWalkThrough (devnet: Devnet, cwd: string, logFile: string): string {
  const short = (path: string): string => { const r = relative(cwd, path); return r === '' ? '.' : r.startsWith('..') ? path : r }
  const d = short(devnet.dir)
  const info = devnet.info
  const node = (name: string): DevnetNodeInfo => info.nodes.find((n) => n.name === name)!
  const iot = node('iot')
  const firmware = node('firmware')
  const policy = short(info.policy)
  const width = Math.max(...info.nodes.map((n) => n.name.length))
  const nameOf = (origin: string): string => info.nodes.find((n) => n.origin === origin)?.name ?? origin
  const mirroring = info.nodes.map((n) => `${n.name} ← ${n.mirrors.map(nameOf).join(', ')}${n.crossRegisters.length === 0 ? '' : ` (cross-registers ${n.crossRegisters.map(nameOf).join(', ')})`}`)
  return `
scitt devnet is running: federation ${info.federation}, ${info.nodes.length} nodes on 127.0.0.1
${info.nodes.map((n) => `  ${n.name.padEnd(width)}  ${n.url}   origin ${n.origin}${n.sector === null ? ', independent witness' : `, sector ${n.sector}`}, tree size ${devnet.node(n.name).log.latestCheckpoint()?.size ?? 0}`).join('\n')}
  mirrors         ${mirroring.join('; ')}
  data and keys   ${d}/<node>/   (reused by the next start)
  network         ${short(join(devnet.dir, DEVNET_INFO_FILE))}   trust policy ${policy}
  logs (NDJSON)   ${short(logFile)}
  try             curl ${iot.url}/checkpoint      curl ${firmware.url}/federation

Register a statement at IoT, fetch it from firmware (a mirror of IoT), verify offline (in another terminal, in this folder):
  npx scitt keygen --out ${d}/issuer.jwk
  echo '{"name": "demo-sbom"}' > ${d}/sbom.json
  npx scitt sign --key ${d}/issuer.jwk --iss did:key --sub demo-app@1.0 --content-type application/spdx+json --out ${d}/sbom.cose ${d}/sbom.json
  npx scitt register --node ${iot.url} ${d}/sbom.cose        # at IoT; prints the entry id
  npx scitt keys --node ${iot.url} --out ${d}/iot-keys.cbor        # receipt keys: check the kids against devnet.json
  npx scitt keys --node ${firmware.url} --out ${d}/firmware-keys.cbor
  npx scitt get ENTRY_ID --node ${firmware.url} --statement --min-receipts 2 --wait 30 --out ${d}/sbom.transparent.cose        # IoT's receipt and firmware's own
  npx scitt verify ${d}/sbom.transparent.cose --node-keys ${d}/iot-keys.cbor --node-keys ${d}/firmware-keys.cbor --allow-did-key
  npx scitt get ENTRY_ID --node ${firmware.url} --proof --policy ${policy} --wait 30 --out ${d}/sbom.tlog-proof        # once cosigned
  npx scitt verify ${d}/sbom.tlog-proof --entry ENTRY_ID --policy ${policy}        # offline, with the witness quorum
  npx scitt checkpoint --node ${firmware.url} --policy ${policy}        # cosigned by ${DEVNET_QUORUM} of the 4 witnesses

Ctrl-C stops every node.`
}
