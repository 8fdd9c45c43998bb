/**
 * The quick start on a fresh clone: the repository's committed HEAD is cloned into a temp
 * folder and the README is followed there as a newcomer would. The first quick-start command
 * (`npm ci && npm start`; npm ci with --prefer-offline --no-audit --no-fund so that it may use the local
 * npm cache, and `-- --port 0` so that it cannot collide with other servers) installs, builds and starts
 * the devnet; once its walk-through is printed, the README's command blocks for issuers, relying parties
 * and monitors run as written, with the clone's own CLI (`npx scitt`), against it: a statement is
 * registered at IoT, its receipt fetched from another node (firmware) and verified with the devnet's
 * witness policy. Ctrl-C (SIGINT to the process group, as a terminal sends it) stops everything.
 *
 * It tests what is committed: changes not yet committed are not in the clone.
 *
 * The second quick-start command (`npm ci && npm test`) is not run here: it would run this test again,
 * recursively. What it needs beyond the first is checked instead: `npm run typecheck` (the tests,
 * benches and scripts typecheck in the clone, so every file they import is committed).
 */
import assert from 'node:assert/strict'
import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

const root = new URL('..', import.meta.url).pathname.replace(/\/$/, '')
/** How long npm ci, the build and the devnet's start may take together. */
const START_MS = 300_000

/** The environment of a fresh terminal: no npm_* variables or PATH entries of the npm run this test may be in. */
function freshEnv (): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {}
  for (const [k, v] of Object.entries(process.env)) if (!/^(npm_|INIT_CWD$)/i.test(k)) env[k] = v
  env.PATH = (process.env.PATH ?? '').split(':').filter((p) => !p.startsWith(root) && !p.includes('node-gyp-bin')).join(':')
  return env
}

/** The pids of processes running from `dir` (started by this test: their command line names the clone). */
function processesIn (dir: string): number[] {
  return readdirSync('/proc').filter((p) => /^\d+$/.test(p) && Number(p) !== process.pid).flatMap((p) => {
    try {
      return readFileSync(`/proc/${p}/cmdline`, 'utf8').includes(`${dir}/`) ? [Number(p)] : []
    } catch {
      return []
    }
  })
}

/** The README's tested blocks: the ```sh blocks right after a `<!-- tested: test/clone.test.ts ... -->` line. */
function testedBlocks (readme: string): string[][] {
  return [...readme.matchAll(/<!-- tested: test\/clone\.test\.ts[^\n]*-->\n```sh\n([^]*?)\n```/g)].map((m) => m[1]!.split('\n'))
}

describe('a fresh clone: the README quick start and its command blocks', function () {
  this.timeout(START_MS + 300_000)
  let dir: string
  let clone: string
  let child: ChildProcess | undefined
  let output = ''

  /** Ctrl-C: SIGINT to the process group; after `ms`, SIGKILL to it and to anything left running from the clone. */
  async function stop (ms: number): Promise<number | null> {
    const running = child
    child = undefined
    if (running === undefined) return null
    const closed = new Promise<number | null>((resolve) => {
      if (running.exitCode !== null || running.signalCode !== null) resolve(running.exitCode)
      else running.on('close', (code) => resolve(code))
    })
    try { process.kill(-running.pid!, 'SIGINT') } catch {}
    let timer: NodeJS.Timeout | undefined
    const code = await Promise.race([closed, new Promise<'timeout'>((resolve) => { timer = setTimeout(() => resolve('timeout'), ms) })])
    clearTimeout(timer)
    if (code !== 'timeout') return code
    try { process.kill(-running.pid!, 'SIGKILL') } catch {}
    return null
  }

  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'scitt-clone-'))
    clone = join(dir, 'scitt-federation')
  })

  after(async () => {
    await stop(5_000)
    // The devnet runs in its own process group (scripts/start.mjs): make sure nothing from the clone is left.
    if (clone !== undefined) for (const pid of processesIn(clone)) try { process.kill(pid, 'SIGKILL') } catch {}
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true })
  })

  it('npm ci && npm start runs the devnet; the README blocks register, fetch from another node and verify; Ctrl-C stops it', async () => {
    const git = spawnSync('git', ['clone', '--quiet', root, clone], { encoding: 'utf8', timeout: 60_000 })
    assert.equal(git.status, 0, `git clone: ${git.stderr}`)
    assert.ok(!existsSync(join(clone, 'node_modules')) && !existsSync(join(clone, '.data')), 'a clean clone')
    const readme = readFileSync(join(clone, 'README.md'), 'utf8')
    const quickStart = /## Quick start\n\n```sh\n([^\n]*)\n([^\n]*)\n```/.exec(readme)
    assert.ok(quickStart, 'the quick start is two commands')
    assert.match(quickStart[1]!, /^npm ci && npm start +#/)
    assert.match(quickStart[2]!, /^npm ci && npm test +#/)

    // The first quick-start command, with the npm cache allowed and any free ports.
    child = spawn('sh', ['-c', 'npm ci --prefer-offline --no-audit --no-fund && npm start -- --port 0'], {
      cwd: clone, env: freshEnv(), detached: true, stdio: ['ignore', 'pipe', 'pipe'],
    })
    child.stdout!.on('data', (c) => { output += c })
    child.stderr!.on('data', (c) => { output += c })
    let exited: number | null | undefined
    child.on('exit', (code) => { exited = code })
    const deadline = Date.now() + START_MS
    while (!/scitt devnet is running:[^]*Ctrl-C stops every node/.test(output)) {
      assert.equal(exited, undefined, `npm ci && npm start exited ${exited}:\n${output}`)
      assert.ok(Date.now() < deadline, `no walk-through within ${START_MS / 1000} s:\n${output}`)
      await new Promise((resolve) => setTimeout(resolve, 200))
    }
    const urls = [...output.matchAll(/^ {2}(iot|firmware|containers|witness) +(http:\/\/127\.0\.0\.1:\d+) /gm)].map((m) => m[2]!)
    assert.equal(urls.length, 4, output)

    // The README's blocks, as written, with the devnet's ports 8080..8083 mapped to the ones it took.
    const blocks = testedBlocks(readme)
    assert.equal(blocks.length, 3, 'issuers, relying parties, monitors')
    let entryId: string | undefined
    const outputs: Array<{ line: string, stdout: string }> = []
    for (const line of blocks.flat()) {
      assert.match(line, /^(npx scitt |echo ')/, `README blocks hold only scitt and echo commands: ${line}`)
      const command = line.replace(/http:\/\/127\.0\.0\.1:808([0-3])/g, (_, i: string) => urls[Number(i)]!)
        .replace(/ENTRY_ID/g, () => entryId ?? assert.fail(`ENTRY_ID used before register: ${line}`))
      const r = spawnSync('sh', ['-c', command], { cwd: clone, env: freshEnv(), encoding: 'utf8', timeout: 60_000 })
      assert.equal(r.status, 0, `${line}\n${r.stdout}${r.stderr}`)
      if (/^npx scitt register /.test(line)) entryId = /^([0-9a-f]{64}) {2}registered {2}sbom\.cose$/m.exec(r.stdout)?.[1]
      outputs.push({ line, stdout: r.stdout })
    }
    const out = (pattern: RegExp): string => outputs.find((o) => pattern.test(o.line))?.stdout ?? assert.fail(`no README line matches ${pattern}`)
    assert.ok(entryId, 'register printed the entry id of sbom.cose')
    assert.match(out(/register --node http:\/\/127\.0\.0\.1:8080 /), /registered {2}fw\.cose/)
    const statement = out(/verify sbom\.transparent\.cose /)
    assert.match(statement, /ok\s+receipt\[0\]\s+included at index \d+ of devnet\.localhost\/firmware's tree/)
    assert.match(statement, /ok\s+receipt\[1\]\s+included at index \d+ of devnet\.localhost\/iot's tree/)
    const receipt = out(/verify sbom\.receipt /)
    assert.match(receipt, /ok\s+checkpoint\[0\]\s+devnet\.localhost\/firmware at size \d+, cosigned by /, 'the receipt from another node is bound to a checkpoint that meets the policy')
    assert.match(receipt, /ok\s+receipt\[0\]\.witnessed/)
    assert.match(receipt, new RegExp(`verified entry ${entryId}`))
    assert.match(out(/verify sbom\.tlog-proof /), /ok\s+proof\.witness-quorum/)
    assert.match(out(/monitor /), /devnet\.localhost\/iot: first checkpoint, size 2/)

    // Ctrl-C stops every node cleanly.
    await stop(30_000)
    assert.equal(readFileSync(join(clone, '.data/devnet/devnet.log'), 'utf8').match(/"msg":"stopped"/g)?.length, 4, `every node stopped cleanly:\n${output.slice(-2000)}`)
    assert.deepEqual(processesIn(clone), [], 'nothing left running')

    // What `npm ci && npm test` needs beyond that: the tests, benches and scripts typecheck in the clone.
    const typecheck = spawnSync('npm', ['run', 'typecheck'], { cwd: clone, env: freshEnv(), encoding: 'utf8', timeout: 240_000 })
    assert.equal(typecheck.status, 0, `npm run typecheck in the clone:\n${typecheck.stdout}${typecheck.stderr}`)
  })
})
