import assert from 'node:assert/strict'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fromBase64, isScittError, noteVerifierFromVkey, parsePolicy, utf8, verifyConsistency, parseNote, parseCheckpoint } from '@scitt/core'
import { LogFollower, type Evidence } from '@scitt/client'
import { jsonHeadStore } from '../src/state-file.js'
import { TestLog, policyText, tileServer, witness, type StubServer } from './helpers.js'

function grow (log: TestLog, n: number, label: string): TestLog {
  for (let i = 0; i < n; i++) log.append(utf8(`${label} ${log.size}`))
  return log
}

async function rejectsInconsistent (p: Promise<unknown>): Promise<Evidence> {
  try {
    await p
  } catch (err) {
    assert.ok(isScittError(err, 'INCONSISTENT'), `expected INCONSISTENT, got ${String(err)}`)
    return err.details!.evidence as Evidence
  }
  assert.fail('expected INCONSISTENT')
}

describe('log follower', () => {
  const servers: StubServer[] = []
  const serve = async (state: Parameters<typeof tileServer>[0]): Promise<StubServer> => {
    const s = await tileServer(state)
    servers.push(s)
    return s
  }
  afterEach(async () => {
    await Promise.all(servers.splice(0).map(async (s) => s.close()))
  })

  it('follows an honest log as it grows, across tile boundaries', async () => {
    const log = grow(new TestLog('example.com/honest'), 300, 'e')
    const state = { log, size: 40 }
    const server = await serve(state)
    const follower = new LogFollower({ logVerifiers: [noteVerifierFromVkey(log.vkey)] })
    assert.deepEqual(await follower.poll({ nodeUrl: server.url }), { type: 'new', origin: log.origin, size: 40, source: { nodeUrl: server.url } })
    assert.equal((await follower.poll({ nodeUrl: server.url })).type, 'same')
    state.size = 257
    assert.deepEqual(await follower.poll({ nodeUrl: server.url }), { type: 'advanced', origin: log.origin, from: 40, to: 257, source: { nodeUrl: server.url } })
    state.size = 300
    assert.equal((await follower.poll({ nodeUrl: server.url })).type, 'advanced')
    assert.equal(follower.heads()[0]?.size, 300)
    assert.ok(server.requests.some((r) => r.startsWith('GET /tile/1/')), 'reads a level-1 tile past 256 leaves')
  })

  it('catches two roots for one size: self-contained evidence', async () => {
    const log = grow(new TestLog('example.com/forked'), 20, 'e')
    const fork = grow(log.fork(12), 8, 'f')
    const a = await serve({ log, size: 20 })
    const b = await serve({ log: fork, size: 20 })
    const follower = new LogFollower({ logVerifiers: [noteVerifierFromVkey(log.vkey)] })
    await follower.poll({ nodeUrl: a.url })
    const evidence = await rejectsInconsistent(follower.poll({ nodeUrl: b.url }))
    assert.equal(evidence.origin, log.origin)
    assert.deepEqual(evidence.checkpoints, [log.checkpoint(20), fork.checkpoint(20)])
    assert.equal(evidence.proof, undefined)
    assert.deepEqual(evidence.sources.map((s) => s.nodeUrl), [a.url, b.url])
  })

  it('catches a peer whose larger tree does not extend the head, with the proof', async () => {
    const log = grow(new TestLog('example.com/split'), 30, 'e')
    const fork = grow(log.fork(10), 50, 'f')
    const honest = await serve({ log, size: 30 })
    const forked = await serve({ log: fork, size: 60 })
    const follower = new LogFollower({ logVerifiers: [noteVerifierFromVkey(log.vkey)] })
    await follower.poll({ nodeUrl: honest.url })
    const evidence = await rejectsInconsistent(follower.poll({ nodeUrl: forked.url }))
    assert.deepEqual(evidence.proof?.size1, 30)
    assert.deepEqual(evidence.proof?.size2, 60)
    // Anyone can re-check: the proof leads to the forked root but not from the honest one.
    const [older, newer] = evidence.checkpoints.map((n) => parseCheckpoint(parseNote(n).text))
    assert.throws(() => verifyConsistency(30, 60, older!.rootHash, newer!.rootHash, evidence.proof!.hashes.map(fromBase64)), { code: 'BAD_PROOF' })
    assert.equal(follower.heads()[0]?.size, 30, 'the head does not move to the fork')
  })

  it('catches a lagging peer on another branch, proving from the head\'s tiles', async () => {
    const log = grow(new TestLog('example.com/lag'), 50, 'e')
    const fork = grow(log.fork(5), 20, 'f')
    const ahead = await serve({ log, size: 50 })
    const behind = await serve({ log: fork, size: 25 })
    const honestBehind = await serve({ log, size: 25 })
    const follower = new LogFollower({ logVerifiers: [noteVerifierFromVkey(log.vkey)] })
    await follower.poll({ nodeUrl: ahead.url })
    assert.equal((await follower.poll({ nodeUrl: honestBehind.url })).type, 'behind')
    const evidence = await rejectsInconsistent(follower.poll({ nodeUrl: behind.url }))
    assert.equal(evidence.proof?.size1, 25)
    assert.equal(evidence.proof?.size2, 50)
  })

  it('blames tiles that do not match the signed checkpoint, not the log', async () => {
    const log = grow(new TestLog('example.com/tiles'), 20, 'e')
    const server = await serve({ log, size: 20, corruptTiles: true })
    const follower = new LogFollower({ logVerifiers: [noteVerifierFromVkey(log.vkey)] })
    await assert.rejects(follower.poll({ nodeUrl: server.url }), { code: 'BAD_PROOF' })
  })

  it('blames a flipped hash in a full level-0 tile (past 256 leaves) on the server that served it, not the log', async () => {
    // The peaks of a tree of 300 leaves come from tile 1/000 and the partial tile 0/001: only a
    // consistency proof reads the full tile 0/000, so only the proof can catch the flip.
    const log = grow(new TestLog('example.com/proxied'), 300, 'e')
    const honest = await serve({ log, size: 100 })
    const tampered = await serve({ log, size: 300, corruptTiles: 'tile/0/000' })
    const follower = new LogFollower({ logVerifiers: [noteVerifierFromVkey(log.vkey)] })
    await follower.poll({ nodeUrl: honest.url })
    await assert.rejects(follower.poll({ nodeUrl: tampered.url }), (err: unknown) => {
      assert.ok(isScittError(err, 'BAD_PROOF'), `expected BAD_PROOF, got ${String(err)}`)
      assert.ok(err.message.includes(tampered.url), `names the source: ${err.message}`)
      assert.deepEqual(err.details?.source, { nodeUrl: tampered.url })
      return true
    })
    assert.ok(tampered.requests.includes('GET /tile/0/000'), 'the proof read the tampered tile')
    assert.equal(follower.heads()[0]?.size, 100, 'the head does not move')
    const clean = await serve({ log, size: 300 })
    assert.equal((await follower.poll({ nodeUrl: clean.url })).type, 'advanced', 'the same log from an honest server is consistent')
  })

  it('blames the head\'s tile source for a bad proof to a lagging peer, not the peer', async () => {
    const log = grow(new TestLog('example.com/proxied-behind'), 300, 'e')
    const tampered = await serve({ log, size: 300, corruptTiles: 'tile/0/000' })
    const behind = await serve({ log, size: 100 })
    const follower = new LogFollower({ logVerifiers: [noteVerifierFromVkey(log.vkey)] })
    assert.equal((await follower.poll({ nodeUrl: tampered.url })).type, 'new', 'the peaks are not in the tampered tile')
    await assert.rejects(follower.poll({ nodeUrl: behind.url }), (err: unknown) => {
      assert.ok(isScittError(err, 'BAD_PROOF'), `expected BAD_PROOF, got ${String(err)}`)
      assert.ok(err.message.includes(tampered.url) && !err.message.includes(behind.url), err.message)
      return true
    })
  })

  it('evidence of a larger tree that does not extend the head carries the old root as the new tree has it', async () => {
    for (const [size1, size2] of [[30, 60], [32, 300], [100, 300]] as const) {
      const log = grow(new TestLog(`example.com/evidence-${size1}`), size1, 'e')
      const fork = grow(log.fork(size1 - 1), size2 - size1 + 1, 'f')
      const follower = new LogFollower({ logVerifiers: [noteVerifierFromVkey(log.vkey)] })
      await follower.poll({ nodeUrl: (await serve({ log, size: size1 })).url })
      const evidence = await rejectsInconsistent(follower.poll({ nodeUrl: (await serve({ log: fork, size: size2 })).url }))
      const [older, newer] = evidence.checkpoints.map((n) => parseCheckpoint(parseNote(n).text))
      const hashes = evidence.proof!.hashes.map(fromBase64)
      // The proof reproduces the new signed root from the old root the new tree holds, and not from the signed old root.
      assert.deepEqual(fromBase64(evidence.proof!.root1), fork.root(size1))
      verifyConsistency(size1, size2, fromBase64(evidence.proof!.root1), newer!.rootHash, hashes)
      assert.throws(() => verifyConsistency(size1, size2, older!.rootHash, newer!.rootHash, hashes), { code: 'BAD_PROOF' })
    }
  })

  it('requires the policy quorum and the log key', async () => {
    const log = grow(new TestLog('example.com/policy'), 10, 'e')
    const w = [witness('a.example'), witness('b.example')]
    const state = { log, size: 10, witnesses: [w[0]!] }
    const server = await serve(state)
    const follower = new LogFollower({ policy: parsePolicy(policyText([log], w, 2)) })
    await assert.rejects(follower.poll({ nodeUrl: server.url }), { code: 'POLICY' })
    state.witnesses = w
    assert.equal((await follower.poll({ nodeUrl: server.url })).type, 'new')
    const stranger = new LogFollower({ logVerifiers: [noteVerifierFromVkey(new TestLog('example.com/other').vkey)] })
    await assert.rejects(stranger.poll({ nodeUrl: server.url }), { code: 'UNKNOWN_ORIGIN' })
  })

  it('audits: replays every entry bundle as it catches up, resuming from the stored range', async () => {
    const log = grow(new TestLog('example.com/audit'), 600, 'e')
    const state = { log, size: 300 }
    const server = await serve(state)
    const progress: Array<[number, number]> = []
    const follower = new LogFollower({
      logVerifiers: [noteVerifierFromVkey(log.vkey)], audit: true, onProgress: ({ done, total }) => progress.push([done, total]),
    })
    await follower.poll({ nodeUrl: server.url })
    assert.deepEqual(progress, [[256, 300], [300, 300]])
    assert.equal(follower.heads()[0]?.audited?.size, 300)
    state.size = 600
    progress.length = 0
    await follower.poll({ nodeUrl: server.url })
    assert.deepEqual(progress, [[212, 300], [300, 300]], 'resumes at 300: the rest of bundle 1, then bundle 2')
    assert.ok(server.requests.includes('GET /tile/entries/001'), 'bundle 1 again, now in full')
    const bad = await serve({ log, size: 600, corruptEntries: true })
    const auditor = new LogFollower({ logVerifiers: [noteVerifierFromVkey(log.vkey)], audit: true })
    await assert.rejects(auditor.poll({ nodeUrl: bad.url }), { code: 'BAD_PROOF' })
  })

  it('remembers heads in a state file across followers', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'scitt-follower-'))
    try {
      const file = join(dir, 'state.json')
      const log = grow(new TestLog('example.com/state'), 30, 'e')
      const fork = grow(log.fork(8), 40, 'f')
      const a = await serve({ log, size: 30 })
      const b = await serve({ log: fork, size: 48 })
      const verifiers = [noteVerifierFromVkey(log.vkey)]
      await new LogFollower({ logVerifiers: verifiers, store: jsonHeadStore(file) }).poll({ nodeUrl: a.url })
      assert.equal(JSON.parse(readFileSync(file, 'utf8')).heads[0].size, 30)
      const second = new LogFollower({ logVerifiers: verifiers, store: jsonHeadStore(file) })
      await rejectsInconsistent(second.poll({ nodeUrl: b.url }))
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })
})
