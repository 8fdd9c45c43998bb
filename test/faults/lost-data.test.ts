/**
 * Fault suite, a lost data dir under a real scitt-node process: after registrations, the node is
 * restarted on an empty data dir (a mistyped path, an unmounted volume). It must not sign a second
 * history with its key: /readyz 503 `halted`, registrations 503, nothing signed; once the config points
 * at the real data again, every acknowledged entry is there and the node registers again.
 */
import assert from 'node:assert/strict'
import { readFileSync, writeFileSync } from 'node:fs'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { makeIssuer, statement } from '../../packages/node/test/helpers.js'
import { NodeProcess, killAll, runCli } from './process-node.js'
import { record, type ScenarioRow } from './report.js'

const issuer = makeIssuer('https://issuer.lost.example')

async function register (url: string): Promise<{ status: number, id?: string }> {
  const res = await fetch(`${url}/entries`, { method: 'POST', body: statement(issuer), headers: { 'content-type': 'application/cose' }, redirect: 'manual', signal: AbortSignal.timeout(10_000) })
  await res.arrayBuffer()
  const location = res.headers.get('location')
  return location === null ? { status: res.status } : { status: res.status, id: location.split('/').pop()! }
}

describe('faults: a lost data dir under a scitt-node process', function () {
  this.timeout(120_000)
  let root: string

  before(async () => { root = await mkdtemp(join(tmpdir(), 'scitt-faults-lost-')) })
  after(async () => {
    await killAll()
    await rm(root, { recursive: true, force: true })
  })

  it('a restart on an empty data dir halts signing; the restored data has every acknowledged entry', async () => {
    const row: ScenarioRow = { scenario: 'lost data dir: restart on an empty volume', cases: 0, faults: 1, acknowledged: 0, found: 0, result: 'fail' }
    try {
      const dir = join(root, 'node')
      const init = await runCli(['init', '--dir', dir, '--origin', 'lost.example/log', '--port', '0', '--json'])
      assert.equal(init.code, 0, init.stderr)
      const configFile = join(dir, 'config.json')
      const raw = JSON.parse(readFileSync(configFile, 'utf8'))
      raw.registration.issuers = [{ iss: issuer.iss, keys: [{ jwk: issuer.jwk }] }]
      raw.log.batchAgeMs = 5
      writeFileSync(configFile, JSON.stringify(raw))
      let node = await NodeProcess.start(configFile)
      const ids: string[] = []
      for (let i = 0; i < 5; i++) {
        const r = await register(node.url)
        assert.equal(r.status, 201)
        ids.push(r.id!)
      }
      row.acknowledged = ids.length
      assert.equal((await node.stop()).code, 0)

      writeFileSync(configFile, JSON.stringify({ ...raw, dataDir: join(root, 'empty-volume') }))
      node = await NodeProcess.start(configFile)
      const ready = await fetch(`${node.url}/readyz`)
      const body = await ready.json() as { status: string, reason: string, treeSize: number }
      assert.equal(ready.status, 503)
      assert.equal(body.status, 'halted')
      assert.match(body.reason, /up to size 5/)
      const refused = await register(node.url)
      assert.equal(refused.status, 503, 'registrations are refused while halted')
      const metrics = await (await fetch(`${node.url}/metrics`)).text()
      assert.match(metrics, /^scitt_log_halted 1$/m)
      assert.match(node.stdout, /halted: this node will not sign a second history/)
      row.cases++
      assert.equal((await node.stop()).code, 0)

      writeFileSync(configFile, JSON.stringify(raw))
      node = await NodeProcess.start(configFile)
      for (const id of ids) {
        const res = await fetch(`${node.url}/entries/${id}`)
        await res.arrayBuffer()
        if (res.status === 200) row.found++
      }
      assert.equal((await register(node.url)).status, 201, 'the restored node registers again')
      row.cases++
      assert.equal((await node.stop()).code, 0)
      row.notes = `empty data dir: /readyz 503 halted ("${body.reason.slice(0, 60)}…"), POST 503, tree size ${body.treeSize}; restored: ${row.found}/${ids.length} acknowledged entries served, registering again`
      row.result = 'pass'
    } finally {
      record(row)
    }
  })
})
