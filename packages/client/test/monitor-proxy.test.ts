/**
 * `scitt monitor` against a real node (ScittNode: HTTP, LevelDB log, tiles) reached through an HTTP
 * proxy on 127.0.0.1 that flips one bit of one hash tile. Tiles are unsigned, so a proxy (or a broken
 * mirror) can always serve a wrong hash; what it cannot do is make the log's own signed checkpoints
 * conflict. The monitor must blame the proxy (BAD_PROOF naming its URL), keep its head, and never print
 * a split view; the same log reached directly is consistent.
 */
import assert from 'node:assert/strict'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { CONFIG_FILE, ScittNode, loadConfig } from '@scitt/node'
import { initFederatedDir, type NodeKeys } from '../../node/test/federation-helpers.js'
import { makeIssuer, post, statement } from '../../node/test/helpers.js'
import { flippingProxy, type FlippingProxy } from './helpers.js'
import { scitt } from './run-cli.js'

/** Registers `count` statements, at most 8 at a time; each must be answered 201. */
export async function registerMany (url: string, issuer: ReturnType<typeof makeIssuer>, count: number): Promise<void> {
  let left = count
  await Promise.all(Array.from({ length: 8 }, async () => {
    while (left > 0) {
      left--
      const res = await post(url, statement(issuer))
      assert.equal(res.status, 201, res.body.toString('utf8'))
    }
  }))
}

/** The JSON objects `--json` printed (pretty-printed, one after another). */
function events (stdout: string): Array<Record<string, unknown>> {
  return stdout.split(/\n(?=\{)/).filter((s) => s.trim() !== '').map((s) => JSON.parse(s) as Record<string, unknown>)
}

describe('scitt monitor through a proxy that flips one byte of one tile', function () {
  this.timeout(60_000)
  const issuer = makeIssuer('https://issuer.example')
  let root: string
  let keys: NodeKeys
  let node: ScittNode | undefined
  let proxy: FlippingProxy | undefined

  before(async () => {
    root = await mkdtemp(join(tmpdir(), 'scitt-monitor-proxy-'))
    keys = initFederatedDir(join(root, 'node'), 'proxied.example/log', issuer)
    node = await ScittNode.start({ config: loadConfig(join(keys.dir, CONFIG_FILE)) })
  })

  after(async () => {
    await proxy?.close()
    await node?.stop().catch(() => {})
    await rm(root, { recursive: true, force: true })
  })

  it('is a bad proof from the proxy\'s URL, not a split view; the head stays, and the node itself is consistent', async () => {
    const state = join(root, 'state.json')
    await registerMany(node!.url, issuer, 100)
    const first = await scitt('monitor', '--node', node!.url, '--log-key', keys.logVkey, '--once', '--state', state)
    assert.equal(first.code, 0, first.stdout + first.stderr)
    assert.match(first.stdout, /proxied\.example\/log: first checkpoint, size 100/)

    // Past 256 leaves the signed root's peaks come from tile 1/000: only the consistency proof 100 → 300
    // reads the full tile 0/000, where the proxy flips the first byte (a hash the proof uses).
    await registerMany(node!.url, issuer, 200)
    proxy = await flippingProxy(node!.url, (path) => (path === '/tile/0/000' ? 0 : undefined))
    const run = await scitt('monitor', '--node', proxy.url, '--log-key', keys.logVkey, '--once', '--state', state, '--json')
    assert.deepEqual(proxy.flipped, ['/tile/0/000'], 'the proxy flipped the tile once')
    assert.equal(run.code, 1, run.stdout + run.stderr)
    const out = events(run.stdout)
    assert.deepEqual(out.map((e) => e.event), ['error'], run.stdout)
    assert.equal(out[0]!.code, 'BAD_PROOF')
    assert.deepEqual(out[0]!.source, { nodeUrl: proxy.url })
    assert.ok(String(out[0]!.error).includes(proxy.url), `names the proxy: ${String(out[0]!.error)}`)
    assert.equal(JSON.parse(await readFile(state, 'utf8')).heads[0].size, 100, 'the head stays at the last verified size')

    const plain = await scitt('monitor', '--node', proxy.url, '--log-key', keys.logVkey, '--once', '--state', state)
    assert.equal(plain.code, 1, plain.stdout + plain.stderr)
    assert.doesNotMatch(plain.stdout + plain.stderr, /SPLIT VIEW/)
    assert.ok(plain.stderr.includes(`BAD_PROOF`) && plain.stderr.includes(`served by ${proxy.url}`), plain.stderr)

    const direct = await scitt('monitor', '--node', node!.url, '--log-key', keys.logVkey, '--once', '--state', state)
    assert.equal(direct.code, 0, direct.stdout + direct.stderr)
    assert.match(direct.stdout, /proxied\.example\/log: 100 → 300, consistent/)
  })
})
