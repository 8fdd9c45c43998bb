/**
 * `scitt monitor` against real nodes on 127.0.0.1 (ScittNode: HTTP, LevelDB log, tiles), the CLI run as
 * a subprocess with `--once`. A healthy pair of honest registries exits 0 round after round; a forked
 * registry — two nodes started from copies of one data directory with the same keys, then given
 * different statements — exits 1 with the evidence, and the `--json` evidence re-verifies with core
 * alone: two notes signed by the origin's log key with one size and two roots, or a consistency proof
 * that reproduces the larger signed root but not the smaller one.
 */
import assert from 'node:assert/strict'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fromBase64, noteVerifierFromVkey, openCheckpoint, verifyConsistency, type Checkpoint } from '@scitt/core'
import { CONFIG_FILE, ScittNode, loadConfig } from '@scitt/node'
import { copyData, initFederatedDir, type NodeKeys } from '../../node/test/federation-helpers.js'
import { http, makeIssuer, post, statement } from '../../node/test/helpers.js'
import type { Evidence } from '../src/follower.js'
import { scitt } from './run-cli.js'

const FORKED = 'fork.example/log'

describe('scitt monitor against real nodes (a forked registry and an honest pair)', function () {
  this.timeout(60_000)
  const issuer = makeIssuer('https://issuer.example')
  const nodes: ScittNode[] = []
  let root: string
  let forked: NodeKeys
  let honest: NodeKeys[]
  let policyFile: string
  let a: ScittNode
  let b: ScittNode
  let pair: ScittNode[]

  /** Starts a node from its directory's config, on another data directory when given. */
  async function start (keys: NodeKeys, dataDir?: string): Promise<ScittNode> {
    const config = loadConfig(join(keys.dir, CONFIG_FILE))
    const node = await ScittNode.start({ config: dataDir === undefined ? config : { ...config, dataDir } })
    nodes.push(node)
    return node
  }

  async function stop (node: ScittNode): Promise<void> {
    nodes.splice(nodes.indexOf(node), 1)
    await node.stop()
  }

  async function register (node: ScittNode, count: number): Promise<void> {
    for (let i = 0; i < count; i++) assert.equal((await post(node.url, statement(issuer))).status, 201)
  }

  async function checkpointNote (node: ScittNode): Promise<string> {
    const res = await http(`${node.url}/checkpoint`)
    assert.equal(res.status, 200)
    return res.body.toString('utf8')
  }

  /** A checkpoint note opened with nothing but core and the origin's log vkey. */
  function open (note: string, keys: NodeKeys): Checkpoint {
    return openCheckpoint(note, noteVerifierFromVkey(keys.logVkey)).checkpoint
  }

  /** The JSON objects `--json` printed (pretty-printed, one after another). */
  function events (stdout: string): Array<Record<string, unknown>> {
    return stdout.split(/\n(?=\{)/).filter((s) => s.trim() !== '').map((s) => JSON.parse(s) as Record<string, unknown>)
  }

  before(async () => {
    root = await mkdtemp(join(tmpdir(), 'scitt-monitor-fork-'))
    forked = initFederatedDir(join(root, 'fork'), FORKED, issuer)
    honest = [initFederatedDir(join(root, 'iot'), 'iot.example/log', issuer), initFederatedDir(join(root, 'firmware'), 'firmware.example/log', issuer)]
    policyFile = join(root, 'federation.policy')
    await writeFile(policyFile, [...[forked, ...honest].map((k) => `log ${k.logVkey}`), 'quorum none', ''].join('\n'))

    // The registry runs for a while, then is forked: two copies of its data directory, same keys.
    const original = await start(forked)
    await register(original, 3)
    const dataDir = original.config.dataDir
    await stop(original)
    copyData(dataDir, `${dataDir}-a`)
    copyData(dataDir, `${dataDir}-b`)
    a = await start(forked, `${dataDir}-a`)
    b = await start(forked, `${dataDir}-b`)
    await register(a, 1)
    await register(b, 1)

    pair = [await start(honest[0]!), await start(honest[1]!)]
  })

  after(async () => {
    for (const node of nodes.splice(0)) await node.stop().catch(() => {})
    await rm(root, { recursive: true, force: true })
  })

  it('an honest pair: exit 0 after each round, and the heads advance consistently (with --state and --audit)', async () => {
    const state = join(root, 'honest-state.json')
    const nodeArgs = pair.flatMap((n) => ['--node', n.url])
    await Promise.all(pair.map(async (n) => register(n, 2)))
    const first = await scitt('monitor', ...nodeArgs, '--policy', policyFile, '--once', '--state', state)
    assert.equal(first.code, 0, first.stdout + first.stderr)
    for (const { origin } of honest) assert.match(first.stdout, new RegExp(`${origin.replace(/[.]/g, '\\.')}: first checkpoint, size 2 \\(tiles match\\)`))
    assert.doesNotMatch(first.stdout, /SPLIT VIEW/)

    await Promise.all(pair.map(async (n) => register(n, 3)))
    const second = await scitt('monitor', ...nodeArgs, '--policy', policyFile, '--once', '--state', state, '--audit')
    assert.equal(second.code, 0, second.stdout + second.stderr)
    for (const { origin } of honest) assert.match(second.stdout, new RegExp(`${origin.replace(/[.]/g, '\\.')}: 2 → 5, consistent`))
  })

  it('a forked registry (same keys, same size, two roots): exit 1, the origin, both signed checkpoints, and what it means', async () => {
    const [noteA, noteB] = [await checkpointNote(a), await checkpointNote(b)]
    const [cpA, cpB] = [open(noteA, forked), open(noteB, forked)]
    assert.equal(cpA.size, 4)
    assert.equal(cpB.size, 4)
    assert.notDeepEqual(cpA.rootHash, cpB.rootHash, 'the fork really diverged')

    const run = await scitt('monitor', '--node', a.url, '--node', b.url, '--policy', policyFile, '--once')
    assert.equal(run.code, 1, run.stdout + run.stderr)
    assert.match(run.stdout, /^SPLIT VIEW of fork\.example\/log: two roots for tree size 4$/m)
    assert.match(run.stdout, /signed two histories that cannot both be true/)
    assert.match(run.stdout, /Do not rely on its receipts/)
    assert.ok(run.stdout.includes(`checkpoint 1, from ${a.url}`) && run.stdout.includes(noteA), 'prints checkpoint 1 as node A signed it')
    assert.ok(run.stdout.includes(`checkpoint 2, from ${b.url}`) && run.stdout.includes(noteB), 'prints checkpoint 2 as node B signed it')

    // Each half alone looks healthy: only the two views together are evidence.
    for (const half of [a, b]) {
      const alone = await scitt('monitor', '--node', half.url, '--policy', policyFile, '--once')
      assert.equal(alone.code, 0, alone.stdout + alone.stderr)
    }
  })

  it('--json: the evidence is machine-readable and re-verifies with core (one size, two roots, both signed by the origin)', async () => {
    const run = await scitt('monitor', '--node', b.url, '--node', a.url, '--policy', policyFile, '--once', '--json')
    assert.equal(run.code, 1, run.stdout + run.stderr)
    const out = events(run.stdout)
    assert.deepEqual(out.map((e) => e.event), ['new', 'split-view'])
    const evidence = out[1]!.evidence as Evidence
    assert.equal(evidence.origin, FORKED)
    assert.deepEqual(evidence.sources.map((s) => s.nodeUrl), [b.url, a.url].map((u) => new URL(u).href))
    assert.equal(evidence.proof, undefined, 'one size, two roots: the pair is self-contained')
    const [one, two] = evidence.checkpoints.map((note) => open(note, forked))
    assert.equal(one!.origin, FORKED)
    assert.equal(two!.origin, FORKED)
    assert.equal(one!.size, two!.size)
    assert.notDeepEqual(one!.rootHash, two!.rootHash)
  })

  it('--json: a half that grew further is caught by its failed consistency proof, which re-verifies with core', async () => {
    await register(b, 1)
    const run = await scitt('monitor', '--node', a.url, '--node', b.url, '--policy', policyFile, '--once', '--json')
    assert.equal(run.code, 1, run.stdout + run.stderr)
    const out = events(run.stdout)
    assert.deepEqual(out.map((e) => e.event), ['new', 'split-view'])
    const evidence = out[1]!.evidence as Evidence
    assert.equal(evidence.origin, FORKED)
    assert.match(evidence.reason, /the tree of size 5 does not extend the tree of size 4/)
    const [older, newer] = evidence.checkpoints.map((note) => open(note, forked))
    assert.deepEqual([older!.size, newer!.size], [4, 5])
    assert.deepEqual({ size1: evidence.proof?.size1, size2: evidence.proof?.size2 }, { size1: 4, size2: 5 })
    assert.throws(
      () => verifyConsistency(4, 5, older!.rootHash, newer!.rootHash, evidence.proof!.hashes.map(fromBase64)),
      (err: Error & { code?: string }) => err.code === 'BAD_PROOF',
    )
    // The proof is the log's own: with the root of size 4 that the larger tree holds, it reproduces the larger signed root.
    verifyConsistency(4, 5, fromBase64(evidence.proof!.root1), newer!.rootHash, evidence.proof!.hashes.map(fromBase64))
    assert.notDeepEqual(fromBase64(evidence.proof!.root1), older!.rootHash)
  })
})
