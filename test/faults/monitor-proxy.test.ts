/**
 * Fault suite: `scitt monitor` (the CLI, a subprocess) reads an honest node (in this process, LevelDB in a
 * temp dir) through an HTTP proxy on 127.0.0.1 that flips one bit of one response: a hash tile the
 * consistency proof alone reads, a tile holding the signed root's peaks, a partial tile, an entry bundle
 * (with --audit), the checkpoint. Tiles and bundles are unsigned, so none of this can be the log's
 * fault: every case must end in an error naming the proxy (BAD_PROOF for tiles and bundles), exit 1 and
 * keep the head; none may print a split view. The same node reached directly stays consistent.
 */
import assert from 'node:assert/strict'
import { copyFile, mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { CONFIG_FILE, ScittNode, loadConfig } from '@scitt/node'
import { initFederatedDir, type NodeKeys } from '../../packages/node/test/federation-helpers.js'
import { makeIssuer, post, statement } from '../../packages/node/test/helpers.js'
import { flippingProxy, type FlippingProxy } from '../../packages/client/test/helpers.js'
import { scitt } from '../../packages/client/test/run-cli.js'
import { record, type ScenarioRow } from './report.js'

const ORIGIN = 'proxied.example/log'
const OLD = 100
const NEW = 300

interface Case {
  /** The request path whose answer is altered, and the byte flipped. */
  path: string
  offset: number
  audit?: boolean
  /** Error codes acceptable for this fault. */
  codes: string[]
}

const CASES: Case[] = [
  // Tile 0/000 is full at 300 leaves: the signed root's peaks come from tile 1/000.p/1 and 0/001.p/44, so
  // only the consistency proof 100 → 300 reads it. First hash, a hash right of the old tree, last byte.
  { path: '/tile/0/000', offset: 0, codes: ['BAD_PROOF'] },
  { path: '/tile/0/000', offset: 32 * 150 + 7, codes: ['BAD_PROOF'] },
  { path: '/tile/0/000', offset: 32 * 256 - 1, codes: ['BAD_PROOF'] },
  { path: '/tile/1/000.p/1', offset: 0, codes: ['BAD_PROOF'] },
  { path: '/tile/0/001.p/44', offset: 32 * 43, codes: ['BAD_PROOF'] },
  { path: '/tile/entries/000', offset: 2 + 20, audit: true, codes: ['BAD_PROOF'] },
  { path: '/checkpoint', offset: ORIGIN.length + 1, codes: ['MALFORMED', 'BAD_SIGNATURE'] },
]

function events (stdout: string): Array<Record<string, unknown>> {
  return stdout.split(/\n(?=\{)/).filter((s) => s.trim() !== '').map((s) => JSON.parse(s) as Record<string, unknown>)
}

describe('faults: scitt monitor through a proxy that flips one byte', function () {
  this.timeout(120_000)
  const issuer = makeIssuer('https://issuer.example')
  let root: string
  let keys: NodeKeys
  let node: ScittNode | undefined
  let proxy: FlippingProxy | undefined
  let rule: Case | undefined

  before(async () => {
    root = await mkdtemp(join(tmpdir(), 'scitt-faults-monitor-proxy-'))
    keys = initFederatedDir(join(root, 'node'), ORIGIN, issuer)
    node = await ScittNode.start({ config: loadConfig(join(keys.dir, CONFIG_FILE)) })
    proxy = await flippingProxy(node.url, (path) => (path === rule?.path ? rule.offset : undefined))
  })

  after(async () => {
    await proxy?.close()
    await node?.stop().catch(() => {})
    await rm(root, { recursive: true, force: true })
  })

  it('every flipped response is blamed on the proxy, never reported as a split view', async () => {
    const row: ScenarioRow = { scenario: 'monitor via a proxy flipping one byte', cases: 0, faults: 0, acknowledged: 0, found: 0, result: 'fail' }
    const codes: string[] = []
    let splitViews = 0
    try {
      const register = async (count: number): Promise<void> => {
        let left = count
        await Promise.all(Array.from({ length: 8 }, async () => {
          while (left > 0) {
            left--
            const res = await post(node!.url, statement(issuer))
            assert.equal(res.status, 201, res.body.toString('utf8'))
            row.acknowledged++
          }
        }))
      }
      const monitor = async (url: string, state: string, audit = false): Promise<Awaited<ReturnType<typeof scitt>>> =>
        scitt('monitor', '--node', url, '--log-key', keys.logVkey, '--once', '--state', state, '--json', ...(audit ? ['--audit'] : []))

      const base = join(root, 'base.json')
      await register(OLD)
      const first = await monitor(node!.url, base)
      assert.equal(first.code, 0, first.stdout + first.stderr)
      await register(NEW - OLD)

      for (const c of CASES) {
        const state = join(root, `case-${row.cases}.json`)
        await copyFile(base, state)
        rule = c
        const flipped = proxy!.flipped.length
        const run = await monitor(proxy!.url, state, c.audit)
        rule = undefined
        row.cases++
        row.faults += proxy!.flipped.length - flipped
        const what = `${c.path} byte ${c.offset}`
        assert.equal(proxy!.flipped.length - flipped, 1, `${what}: the proxy flipped one response`)
        const out = events(run.stdout)
        splitViews += out.filter((e) => e.event === 'split-view').length
        assert.deepEqual(out.map((e) => e.event), ['error'], `${what}: ${run.stdout}`)
        const error = out[0]!
        codes.push(String(error.code))
        assert.ok(c.codes.includes(String(error.code)), `${what}: ${String(error.code)}: ${String(error.error)}`)
        if (error.code === 'BAD_PROOF') assert.ok(String(error.error).includes(`served by ${proxy!.url}`), `${what}: names the proxy: ${String(error.error)}`)
        assert.deepEqual(error.source, { nodeUrl: proxy!.url })
        assert.equal(run.code, 1, `${what}: exit ${run.code}`)
        assert.equal(JSON.parse(await readFile(state, 'utf8')).heads[0].size, OLD, `${what}: the head stays`)
      }

      // The node itself: consistent, and every acknowledged entry is in the tree that the monitor verified.
      const direct = await monitor(node!.url, base, true)
      row.cases++
      assert.equal(direct.code, 0, direct.stdout + direct.stderr)
      const advanced = events(direct.stdout).find((e) => e.event === 'advanced')
      assert.deepEqual({ from: advanced?.from, to: advanced?.to }, { from: OLD, to: NEW })
      row.found = Number(advanced?.to)
      const tally = [...new Set(codes)].map((code) => `${code}×${codes.filter((c) => c === code).length}`).join(' ')
      row.notes = `${CASES.length} flipped responses (3 bytes of the proof-only tile 0/000, the peak tile 1/000.p/1, partial 0/001.p/44, entry bundle with --audit, checkpoint): ${tally}, exit 1, head kept; split views ${splitViews}; direct: ${OLD} → ${NEW} consistent, audited`
      row.result = splitViews === 0 ? 'pass' : 'fail'
    } finally {
      record(row)
    }
  })
})
