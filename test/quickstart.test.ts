/**
 * The README's quick start, as a newcomer runs it: `npm start` (scripts/start.mjs on the built packages)
 * brings up the devnet (three registries and a witness, federated on loopback, mirroring each other),
 * and the walk-through it prints works with the `scitt` CLI as written: a statement registered at IoT
 * is fetched from the firmware registry (a mirror of IoT that cross-registers its entries) with both
 * registries' receipts, verified offline with both keys, and its offline proof from firmware verifies
 * with the devnet's witness quorum.
 */
import assert from 'node:assert/strict'
import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { mkdtempSync, rmSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

const root = new URL('..', import.meta.url).pathname
const scitt = join(root, 'packages/client/bin/scitt.js')

interface Started {
  child: ChildProcess
  output: () => string
  /** Each node's URL and tree size as printed. */
  nodes: Map<string, { url: string, treeSize: number }>
}

function startNode (dir: string): Promise<Started> {
  const child = spawn(process.execPath, [join(root, 'scripts/start.mjs'), '--dir', dir, '--port', '0'], { stdio: ['ignore', 'pipe', 'pipe'] })
  let output = ''
  child.stdout.on('data', (c) => { output += c })
  child.stderr.on('data', (c) => { output += c })
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => { child.kill('SIGKILL'); reject(new Error(`no walk-through within 45 s:\n${output}`)) }, 45_000)
    const check = (): void => {
      if (!/scitt devnet is running:[^]*Ctrl-C stops every node/.test(output)) return
      clearTimeout(timer)
      const nodes = new Map([...output.matchAll(/^ {2}(\w+) +(http:\/\/127\.0\.0\.1:\d+) .*tree size (\d+)$/gm)].map((m) => [m[1]!, { url: m[2]!, treeSize: Number(m[3]) }]))
      resolve({ child, output: () => output, nodes })
    }
    child.stdout.on('data', check)
    child.on('exit', (code) => { clearTimeout(timer); reject(new Error(`start.mjs exited ${code}:\n${output}`)) })
  })
}

function stop (child: ChildProcess): Promise<number | null> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), 20_000)
    child.removeAllListeners('exit')
    child.on('close', (code) => { clearTimeout(timer); resolve(code) })
    child.kill('SIGINT')
  })
}

/** Runs one printed walk-through line `npx scitt ARGS` (npx runs the bin shim with node). */
function run (line: string, entryId: string): string {
  const args = line.replace(/#.*$/, '').trim().split(/\s+/).slice(2).map((a) => a === 'ENTRY_ID' ? entryId : a)
  const r = spawnSync(process.execPath, [scitt, ...args], { encoding: 'utf8', timeout: 45_000 })
  assert.equal(r.status, 0, `${line}\n${r.stdout}${r.stderr}`)
  return r.stdout
}

describe('quick start (npm start runs the devnet; its walk-through)', function () {
  this.timeout(150_000)
  let dir: string
  before(() => { dir = mkdtempSync(join(tmpdir(), 'scitt-quickstart-')) })
  after(() => rmSync(dir, { recursive: true, force: true }))

  it('starts the devnet, registers and verifies a statement as printed, stops cleanly, and restarts on the same data', async () => {
    const first = await startNode(dir)
    try {
      assert.deepEqual([...first.nodes.keys()], ['iot', 'firmware', 'containers', 'witness'])
      assert.equal(first.nodes.get('iot')!.treeSize, 0)
      const { url: iot } = first.nodes.get('iot')!
      const { url: firmware } = first.nodes.get('firmware')!
      const printed = first.output().split('\n')
      const lines = printed.filter((l) => /^\s+npx scitt /.test(l))
      assert.deepEqual(lines.map((l) => l.trim().split(' ')[2]), ['keygen', 'sign', 'register', 'keys', 'keys', 'get', 'verify', 'get', 'verify', 'checkpoint'])
      const nodeOf = (line: string): string | undefined => /--node (\S+)/.exec(line)?.[1]
      assert.equal(nodeOf(lines[2]!), iot, 'registers at IoT')
      assert.deepEqual([lines[5], lines[7], lines[9]].map((l) => nodeOf(l!)), [firmware, firmware, firmware], 'fetches from another node: firmware')
      const echo = printed.find((l) => /^\s+echo '.*' > \S+$/.test(l))
      assert.ok(echo, 'the walk-through writes an artifact')
      const [, content, file] = /echo '(.*)' > (\S+)$/.exec(echo)!
      writeFileSync(file!, `${content}\n`)
      let entryId = ''
      const outputs = lines.map((line) => {
        const out = run(line, entryId)
        if (/ register /.test(line)) entryId = /[0-9a-f]{64}/.exec(out)?.[0] ?? assert.fail(`register prints the entry id:\n${out}`)
        return out
      })
      // The statement from firmware carries firmware's own receipt (cross-registered) and IoT's (mirrored).
      assert.match(outputs[6]!, /ok\s+issuer-signature/)
      assert.match(outputs[6]!, /ok\s+receipt\[0\]\s+included at index 0 of devnet\.localhost\/firmware's tree/)
      assert.match(outputs[6]!, /ok\s+receipt\[1\]\s+included at index 0 of devnet\.localhost\/iot's tree/)
      assert.match(outputs[6]!, new RegExp(`verified entry ${entryId}`))
      assert.match(outputs[8]!, /ok\s+proof\.witness-quorum/, 'the offline proof carries the witness quorum')
      assert.match(outputs[8]!, /ok\s+proof\.inclusion\s+included at index 0 of 1/)
      assert.match(outputs[9]!, /origin\s+devnet\.localhost\/firmware\n/)
      assert.match(outputs[9]!, /size\s+1\n/)
      assert.match(outputs[9]!, /policy\s+ok \(cosigned by /, 'the checkpoint meets the devnet policy')
    } finally {
      assert.equal(await stop(first.child), 0, 'Ctrl-C stops the devnet cleanly')
    }
    assert.equal(readFileSync(join(dir, 'devnet.log'), 'utf8').match(/"msg":"stopped"/g)?.length, 4, 'every node stopped cleanly')
    const info = JSON.parse(readFileSync(join(dir, 'devnet.json'), 'utf8')) as { federation: string, nodes: Array<{ name: string }> }
    assert.equal(info.federation, 'scitt-devnet')
    assert.deepEqual(info.nodes.map((n) => n.name), ['iot', 'firmware', 'containers', 'witness'])

    const second = await startNode(dir)
    try {
      assert.equal(second.nodes.get('iot')!.treeSize, 1, 'the next start reuses the data')
      assert.equal(second.nodes.get('firmware')!.treeSize, 1, 'and the cross-registered entry')
    } finally {
      const code = await stop(second.child)
      assert.equal(code, 0, `${second.output()}\n${readFileSync(join(dir, 'devnet.log'), 'utf8').split('\n').filter((l) => /"level":[456]0/.test(l)).slice(-8).join('\n')}`)
    }
  })
})
