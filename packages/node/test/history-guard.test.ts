/**
 * The history guard with real nodes on 127.0.0.1 (HTTP, LevelDB, libp2p): a node whose data dir lost
 * or rolled back entries that its key signed does not sign a second history. It halts (registrations
 * 503, /readyz 503 `halted` with the reason, scitt_log_halted 1) at start when its recorded log head is
 * ahead of the data dir, and at run time when its witness has cosigned a larger size; restoring the
 * data dir, or deleting the record deliberately, lets it sign again.
 */
import '../src/p2p/polyfill.js'
import assert from 'node:assert/strict'
import { cpSync, existsSync, rmSync } from 'node:fs'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { ScittNode, loadConfig } from '@scitt/node'
import { initFederatedDir, startFederated, until, type FederatedNode } from './federation-helpers.js'
import { http, makeIssuer, post, problem, statement } from './helpers.js'

describe('history guard: a lost or restored data dir does not fork the log', function () {
  this.timeout(30_000)
  const issuer = makeIssuer('https://issuer.example')
  let root: string
  const running: Array<{ stop: () => Promise<void> }> = []

  beforeEach(async () => { root = await mkdtemp(join(tmpdir(), 'scitt-guard-')) })
  afterEach(async () => {
    for (const n of running.splice(0)) await n.stop().catch(() => {})
    await rm(root, { recursive: true, force: true })
  })

  async function start (configFile: string, dataDir?: string): Promise<ScittNode> {
    const config = loadConfig(configFile)
    const node = await ScittNode.start({ config: dataDir === undefined ? config : { ...config, dataDir } })
    running.push(node)
    return node
  }

  async function halted (node: ScittNode): Promise<string> {
    const ready = await http(`${node.url}/readyz`)
    assert.equal(ready.status, 503)
    const body = JSON.parse(ready.body.toString()) as { status: string, reason: string }
    assert.equal(body.status, 'halted')
    const res = await post(node.url, statement(issuer))
    assert.equal(res.status, 503, 'a halted node refuses registrations')
    assert.equal(problem(res).title, 'Registrations halted')
    assert.match((await http(`${node.url}/metrics`)).body.toString(), /^scitt_log_halted 1$/m)
    return body.reason
  }

  it('halts at start on an empty or older data dir, and signs again once the data is back', async () => {
    const keys = initFederatedDir(join(root, 'n'), 'n.example/log', issuer)
    const configFile = join(keys.dir, 'config.json')
    const dataDir = loadConfig(configFile).dataDir
    let node = await start(configFile)
    for (let i = 0; i < 2; i++) assert.equal((await post(node.url, statement(issuer))).status, 201)
    await node.stop()
    cpSync(dataDir, join(root, 'backup'), { recursive: true }) // a backup at size 2
    node = await start(configFile)
    for (let i = 0; i < 2; i++) assert.equal((await post(node.url, statement(issuer))).status, 201)
    const size = node.log.latestCheckpoint()!.size
    await node.stop()

    // An empty data dir (a mistyped path, an unmounted volume): halted, nothing signed.
    node = await start(configFile, join(root, 'empty'))
    assert.match(await halted(node), new RegExp(`up to size ${size}.*has size 0`))
    assert.equal(node.log.latestCheckpoint()?.size ?? 0, 0)
    await node.stop()
    // The backup (size 2 of 4): halted too.
    node = await start(configFile, join(root, 'backup'))
    assert.match(await halted(node), new RegExp(`up to size ${size}.*has size 2`))
    await node.stop()
    // The data restored: signing again, the record untouched by the halted runs.
    node = await start(configFile)
    assert.equal((await http(`${node.url}/readyz`)).status, 200)
    assert.equal((await post(node.url, statement(issuer))).status, 201)
    assert.equal(node.log.latestCheckpoint()!.size, size + 1)
    await node.stop()
    // A new log, deliberately: the operator deletes the record.
    const record = join(keys.dir, 'log-head.json')
    assert.ok(existsSync(record))
    rmSync(record)
    node = await start(configFile, join(root, 'new'))
    assert.equal((await post(node.url, statement(issuer))).status, 201)
  })

  it('halts when its witness has cosigned a larger size of its log than the log holds', async () => {
    const origin = initFederatedDir(join(root, 'origin'), 'origin.example/log', issuer)
    const witness = initFederatedDir(join(root, 'witness'), 'witness.example/log', issuer)
    const policy = `log ${origin.logVkey}\nlog ${witness.logVkey}\nwitness w0 ${witness.witnessVkey}\nquorum w0\n`
    const w: FederatedNode = await startFederated(witness, { name: 'guard', policy, bootstrap: [] })
    running.push(w)
    let o = await startFederated(origin, { name: 'guard', policy, bootstrap: w.federation.multiaddrs })
    running.push(o)
    for (let i = 0; i < 3; i++) assert.equal((await post(o.node.url, statement(issuer))).status, 201)
    await until(() => w.federation.heads.latest(origin.origin)?.quorum === true && w.federation.heads.latest(origin.origin)?.size === 3, 10_000, 'size 3 cosigned by the witness')
    await o.stop()
    // Both the data dir and the local record are gone (e.g. the whole volume): only the witness remembers.
    rmSync(join(origin.dir, 'log-head.json'))
    o = await startFederated(origin, { name: 'guard', policy, bootstrap: w.federation.multiaddrs, dataDir: join(root, 'lost') })
    running.push(o)
    await until(async () => (await http(`${o.node.url}/readyz`)).status === 503, 10_000, 'the node halts on the witness\'s answer')
    assert.match(await halted(o.node), /witness w0 has cosigned size 3 of this log, which holds 0/)
  })
})
