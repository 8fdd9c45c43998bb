import assert from 'node:assert/strict'
import { spawn, type ChildProcess } from 'node:child_process'
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { entryBytes, entryId } from '@scitt/core'
import { http, makeIssuer, post, statement } from './helpers.js'

const CLI = fileURLToPath(new URL('../src/cli.ts', import.meta.url))
const NODE_ARGS = ['--conditions=source', '--import', 'tsx', CLI]
const ROOT = fileURLToPath(new URL('../../..', import.meta.url))

interface Run { code: number | null, stdout: string, stderr: string }

function run (args: string[]): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...NODE_ARGS, ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (c: Buffer) => { stdout += c.toString() })
    child.stderr.on('data', (c: Buffer) => { stderr += c.toString() })
    const timer = setTimeout(() => child.kill('SIGKILL'), 20_000)
    child.on('error', reject)
    child.on('close', (code) => { clearTimeout(timer); resolve({ code, stdout, stderr }) })
  })
}

/** Starts `scitt-node start`; resolves with the URL from its "listening" log line. */
function startNode (config: string): Promise<{ child: ChildProcess, url: string, lines: () => Array<Record<string, unknown>>, exited: Promise<number | null> }> {
  const child = spawn(process.execPath, [...NODE_ARGS, 'start', '--config', config], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] })
  let out = ''
  let err = ''
  const exited = new Promise<number | null>((resolve) => child.on('close', resolve))
  const kill = setTimeout(() => child.kill('SIGKILL'), 25_000)
  void exited.then(() => clearTimeout(kill))
  const lines = (): Array<Record<string, unknown>> => out.split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as Record<string, unknown>)
  return new Promise((resolve, reject) => {
    child.stderr.on('data', (c: Buffer) => { err += c.toString() })
    child.stdout.on('data', (c: Buffer) => {
      out += c.toString()
      const listening = lines().find((l) => l.msg === 'scitt-node listening')
      if (listening !== undefined) resolve({ child, url: listening.url as string, lines, exited })
    })
    void exited.then((code) => reject(new Error(`scitt-node exited with ${code}: ${err}`)))
  })
}

describe('scitt-node CLI', function () {
  this.timeout(60_000)
  let dir: string
  const vendor = makeIssuer('vendor.example')

  before(() => { dir = mkdtempSync(join(tmpdir(), 'scitt-cli-')) })
  after(() => { rmSync(dir, { recursive: true, force: true }) })

  it('init, start, register, SIGTERM, restart: the entry is still there; fsck passes', async () => {
    const nodeDir = join(dir, 'node')
    const init = await run(['init', '--dir', nodeDir, '--origin', 'example.com/cli-log', '--sector', 'iot', '--port', '0', '--json'])
    assert.equal(init.code, 0, init.stderr)
    const result = JSON.parse(init.stdout) as { config: string, logVkey: string }
    assert.match(result.logVkey, /^example\.com\/cli-log\+/)
    const raw = JSON.parse(readFileSync(result.config, 'utf8'))
    raw.registration.issuers = [{ iss: vendor.iss, keys: [{ jwk: vendor.jwk }] }]
    raw.log.batchAgeMs = 10
    raw.limits.verifyWorkers = 1
    writeFileSync(result.config, JSON.stringify(raw))

    const again = await run(['init', '--dir', nodeDir, '--origin', 'example.com/cli-log'])
    assert.equal(again.code, 2)
    assert.match(again.stderr, /refusing to overwrite/)

    const body = statement(vendor)
    const id = entryId(entryBytes(body))
    const first = await startNode(result.config)
    const created = await post(first.url, body)
    assert.equal(created.status, 201)
    first.child.kill('SIGTERM')
    assert.equal(await first.exited, 0)
    const messages = first.lines().map((l) => l.msg)
    assert.ok(messages.includes('stopped'), messages.join(', '))
    assert.doesNotMatch(JSON.stringify(first.lines()), /PRIVATE|"d":/)

    const second = await startNode(result.config)
    const got = await http(`${second.url}/entries/${id}`)
    assert.equal(got.status, 200)
    assert.deepEqual(got.body, created.body)
    second.child.kill('SIGINT')
    assert.equal(await second.exited, 0)

    const fsck = await run(['fsck', '--dir', nodeDir])
    assert.equal(fsck.code, 0, fsck.stdout + fsck.stderr)
    assert.match(fsck.stdout, /^ok: size 1, 1 entries/)

    chmodSync(join(nodeDir, 'log.key'), 0o644)
    const refused = await run(['start', '--config', result.config])
    assert.equal(refused.code, 2)
    assert.match(refused.stderr, /log\.key is accessible by group or others/)
  })

  it('start with a federation section: two CLI nodes federate over libp2p; the checkpoint gets cosigned', async () => {
    const init = async (name: string, origin: string): Promise<{ config: string, logVkey: string, witnessVkey: string }> => {
      const r = await run(['init', '--dir', join(dir, name), '--origin', origin, '--port', '0', '--json'])
      assert.equal(r.code, 0, r.stderr)
      return JSON.parse(r.stdout)
    }
    const sector = await init('fed-sector', 'sector.example/log')
    const witness = await init('fed-witness', 'witness.example/log')
    const policy = `log ${sector.logVkey}\nlog ${witness.logVkey}\nwitness w ${witness.witnessVkey}\nquorum w\n`
    const federate = (file: string, bootstrap: string[]): void => {
      const raw = JSON.parse(readFileSync(file, 'utf8'))
      assert.equal(raw.federation.name, undefined, 'init writes the federation disabled')
      writeFileSync(join(file, '..', 'trust.policy'), policy)
      raw.federation = { ...raw.federation, name: 'cli-test', trustPolicy: 'trust.policy', bootstrap, heartbeatMs: 200, announceMs: 500 }
      raw.limits.verifyWorkers = 1
      raw.registration.issuers = [{ iss: vendor.iss, keys: [{ jwk: vendor.jwk }] }]
      writeFileSync(file, JSON.stringify(raw))
    }
    federate(witness.config, [])
    const w = await startNode(witness.config)
    const listening = w.lines().find((l) => l.msg === 'scitt-node listening')!
    assert.equal(listening.federation, 'cli-test')
    const addrs = listening.multiaddrs as string[]
    assert.ok(addrs.length > 0 && addrs.every((a) => a.includes(`/p2p/${String(listening.peerId)}`)), JSON.stringify(addrs))
    federate(sector.config, addrs)
    const s = await startNode(sector.config)
    try {
      const deadline = Date.now() + 15_000
      let cosigned = false
      let posted = false
      while (!cosigned && Date.now() < deadline) {
        // Register once the sector knows the witness (its descriptor arrived); until then it cannot reach it.
        const status = JSON.parse((await http(`${s.url}/federation`)).body.toString('utf8'))
        if (!posted && status.announced.some((d: { witness: string | null }) => d.witness === witness.witnessVkey)) {
          assert.equal((await post(s.url, statement(vendor))).status, 201)
          posted = true
        }
        const checkpoint = (await http(`${s.url}/checkpoint`)).body.toString('utf8')
        cosigned = posted && checkpoint.includes('\n\u2014 witness.example/log/witness ')
        if (!cosigned) await new Promise((resolve) => setTimeout(resolve, 100))
      }
      assert.ok(cosigned, 'GET /checkpoint of the sector node carries the witness cosignature')
      const seen = JSON.parse((await http(`${w.url}/federation`)).body.toString('utf8'))
      assert.equal(seen.origins.find((o: { origin: string }) => o.origin === 'sector.example/log')?.size, 1)
    } finally {
      s.child.kill('SIGTERM')
      w.child.kill('SIGTERM')
    }
    assert.equal(await s.exited, 0)
    assert.equal(await w.exited, 0)
    // A bad trust policy is a config error naming the field (exit 2).
    writeFileSync(join(witness.config, '..', 'trust.policy'), 'log nonsense\n')
    const bad = await run(['start', '--config', witness.config])
    assert.equal(bad.code, 2)
    assert.match(bad.stderr, /config federation\.trustPolicy: /)
  })

  it('prints --help for every command and exits 2 on usage and config errors', async () => {
    for (const args of [['--help'], ['init', '--help'], ['start', '--help'], ['fsck', '--help']]) {
      const r = await run(args)
      assert.equal(r.code, 0, args.join(' '))
      assert.match(r.stdout, /usage: scitt-node/)
    }
    assert.equal((await run(['frobnicate'])).code, 2)
    const missing = await run(['start'])
    assert.equal(missing.code, 2)
    assert.match(missing.stderr, /--config is required/)
    const config = join(dir, 'bad.json')
    writeFileSync(config, JSON.stringify({ origin: 'example.com/x', http: { port: 'eighty' } }))
    const bad = await run(['start', '--config', config])
    assert.equal(bad.code, 2)
    assert.match(bad.stderr, /config http\.port: expected an integer from 0 to 65535, got "eighty"/)
  })
})
