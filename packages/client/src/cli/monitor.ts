/** `scitt monitor`: follows logs on one or more nodes and catches split views. */
import { isScittError, noteVerifierFromVkey, parseCheckpoint, parseNote, type NoteVerifier } from '@scitt/core'
import { nodeSignatures } from '@scitt/node-crypto'
import { fetchCheckpoint, logPrefix, type TileSource } from '../fetch.js'
import { LogFollower, type Evidence, type FollowEvent } from '../follower.js'
import { sleep } from '../http.js'
import { jsonHeadStore } from '../state-file.js'
import { EXIT, UsageError, info, integer, list, loadPolicy, nodeUrl, printJson, progressBar, type Command } from './common.js'

function describeEvent (e: FollowEvent): string {
  const at = `${e.source.nodeUrl}${e.source.prefix ?? ''}`
  switch (e.type) {
    case 'new': return `${e.origin}: first checkpoint, size ${e.size} (tiles match) from ${at}`
    case 'advanced': return `${e.origin}: ${e.from} → ${e.to}, consistent, from ${at}`
    case 'same': return `${e.origin}: size ${e.size}, unchanged, from ${at}`
    case 'behind': return `${e.origin}: ${at} is behind at size ${e.size} (head ${e.head}), consistent`
  }
}

function printEvidence (evidence: Evidence, json: boolean): void {
  if (json) {
    printJson({ event: 'split-view', evidence })
    return
  }
  const where = (s: TileSource): string => `${s.nodeUrl}${s.prefix ?? ''}`
  process.stdout.write(`SPLIT VIEW of ${evidence.origin}: ${evidence.reason}\n` +
    `${evidence.origin} signed two histories that cannot both be true: the log is forked, or its key is in other\n` +
    'hands. Do not rely on its receipts; keep this evidence (each checkpoint below verifies on its own with the\n' +
    'log\'s key) and contact the log\'s operator.\n\n')
  evidence.checkpoints.forEach((note, i) => process.stdout.write(`checkpoint ${i + 1}, from ${where(evidence.sources[i]!)}:\n${note}\n`))
  if (evidence.proof !== undefined) {
    process.stdout.write(`consistency proof ${evidence.proof.size1} → ${evidence.proof.size2} (from the tiles of checkpoint 2):\n`)
    for (const h of evidence.proof.hashes) process.stdout.write(`${h}\n`)
    process.stdout.write(`with the root of size ${evidence.proof.size1} that checkpoint 2's tree holds, ${evidence.proof.root1},\n` +
      `the proof reproduces checkpoint 2's root; checkpoint 1's root is another.\n`)
  }
}

/** The tile source of each node: its own log, or its mirror of --origin. */
async function resolveSources (urls: string[], origin: string | undefined): Promise<TileSource[]> {
  if (origin === undefined) return urls.map((nodeUrl) => ({ nodeUrl }))
  return Promise.all(urls.map(async (url) => {
    const own = parseCheckpoint(parseNote(await fetchCheckpoint({ nodeUrl: url })).text).origin
    return own === origin ? { nodeUrl: url } : { nodeUrl: url, prefix: logPrefix(origin) }
  }))
}

export const monitor: Command = {
  name: 'monitor',
  summary: 'follow logs and catch split views',
  help: `usage: scitt monitor --node URL [--node URL...] (--policy FILE | --log-key VKEY...) [--origin ORIGIN]
                     [--interval MS] [--once] [--state FILE] [--json]

Follows the log of each node (or, with --origin, that log as each node serves it: its own or a mirror),
checks every checkpoint's signature (and witness quorum with --policy), and checks that every new
checkpoint is consistent with the last verified one, across all nodes, with consistency proofs read
from the tiles. On a split view (two roots for one size, or a consistency proof that reproduces the
newer signed root but not the older one) it prints the evidence, both signed checkpoints and the proof,
and exits 1. Tiles or a proof that do not reproduce a node's own signed root are that node's fault (or
a proxy's in between), not the log's: BAD_PROOF naming the URL that served them.
With --state, the last verified checkpoints persist across runs.

options:
  --node URL        a node to follow; repeatable (required)
  --policy FILE     C2SP tlog-policy: log keys and witness quorum
  --log-key VKEY    a log's verifier key, when there is no policy; repeatable
  --origin ORIGIN   follow this log on every node (own log or mirror)
  --interval MS     time between rounds (default 10000)
  --once            one round, then exit
  --state FILE      remember verified checkpoints in this JSON file
  --audit           also replay every entry and recompute each root (a full audit; shows progress
                    while catching up, resumes from --state)
  --json            one JSON object per event

exit: 0 no split view (after --once, or on Ctrl-C); 1 split view, or with --once a checkpoint that
fails its signature or quorum, or a bad proof; 2 usage error, or with --once a node that could not be
reached

example:
  scitt monitor --node http://127.0.0.1:8080 --node http://127.0.0.1:8081 --policy federation.policy`,
  options: {
    node: { type: 'string', multiple: true }, policy: { type: 'string' }, 'log-key': { type: 'string', multiple: true },
    origin: { type: 'string' }, interval: { type: 'string' }, once: { type: 'boolean' }, state: { type: 'string' },
    audit: { type: 'boolean' },
  },
  positionals: [0, 0],
  async run (values) {
    const urls = list(values.node).map(nodeUrl)
    if (urls.length === 0) throw new UsageError('scitt monitor: give at least one --node URL')
    const policy = loadPolicy(values.policy as string | undefined)
    let logVerifiers: NoteVerifier[]
    try {
      logVerifiers = list(values['log-key']).map((v) => noteVerifierFromVkey(v, nodeSignatures))
    } catch (err) {
      throw new UsageError(`--log-key: ${(err as Error).message}`)
    }
    if (policy === undefined && logVerifiers.length === 0) throw new UsageError('scitt monitor: give --policy FILE or --log-key VKEY to verify checkpoints')
    const interval = integer(values.interval, 'interval', 10_000)
    const json = values.json === true
    let catchingUp: { origin: string, total: number, bar: ReturnType<typeof progressBar> } | undefined
    const follower = new LogFollower({
      audit: values.audit === true,
      onProgress: ({ origin, done, total }) => {
        if (catchingUp?.origin !== origin || catchingUp.total !== total) catchingUp = { origin, total, bar: progressBar(total, `auditing ${origin}`) }
        catchingUp.bar.tick(done)
        if (done === total) {
          catchingUp.bar.end()
          catchingUp = undefined
        }
      },
      ...(policy === undefined ? {} : { policy }),
      logVerifiers,
      ...(values.state === undefined ? {} : { store: jsonHeadStore(values.state as string) }),
      now: () => Math.floor(Date.now() / 1000),
    })
    const sources = await resolveSources(urls, values.origin as string | undefined)
    const stop = new AbortController()
    const onSignal = (): void => stop.abort()
    process.once('SIGINT', onSignal)
    process.once('SIGTERM', onSignal)
    try {
      for (;;) {
        let unreachable = 0
        let failed = 0
        for (const source of sources) {
          try {
            const event = await follower.poll(source)
            if (json) printJson({ event: event.type, ...event })
            else if (event.type !== 'same' || values.once === true) process.stdout.write(`${describeEvent(event)}\n`)
          } catch (err) {
            if (isScittError(err, 'INCONSISTENT')) {
              printEvidence(err.details!.evidence as Evidence, json)
              return EXIT.failed
            }
            if (isScittError(err) && ['BAD_SIGNATURE', 'POLICY', 'UNKNOWN_ORIGIN', 'BAD_PROOF', 'MALFORMED'].includes(err.code)) failed++
            else unreachable++
            const message = isScittError(err) ? `${err.code}: ${err.message}` : (err as Error).message
            if (json) printJson({ event: 'error', source, ...(isScittError(err) ? { code: err.code } : {}), error: message })
            else info(`${source.nodeUrl}${source.prefix ?? ''}: ${message}`)
          }
        }
        if (values.once === true) return failed > 0 ? EXIT.failed : unreachable > 0 ? EXIT.usage : EXIT.ok
        try {
          await sleep(interval, stop.signal)
        } catch {
          return EXIT.ok
        }
      }
    } finally {
      process.off('SIGINT', onSignal)
      process.off('SIGTERM', onSignal)
    }
  },
}
