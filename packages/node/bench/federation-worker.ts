/**
 * A process of the federation bench (federation.bench.ts) that hosts a range of the federation's nodes
 * (federation-nodes.ts), driven by the parent over the IPC channel: one request at a time, each answered
 * with one message. Times are the machine's clock in ms (performance.timeOrigin + performance.now()),
 * the same in every process. CPU is this process's (every thread); bytes are those written to every TCP
 * socket it holds.
 */
import { subscribe } from 'node:diagnostics_channel'
import type { Socket } from 'node:net'
import { utf8 } from '@scitt/core'
import { useNodeSha256 } from '@scitt/node-crypto'
import { TrustPolicy } from '@scitt/node'
import { bootstrapOf, meshPeers, meshed, originOf, policyText, startNode, stopNode, witnessVkey, WITNESSES, type BenchNode } from './federation-nodes.js'

export type WorkerRequest =
  /** Starts the nodes `indices` in order; `bootstrap` has the addresses of node i's bootstrap peers held by other processes. */
  | { type: 'start', nodes: number, indices: number[], bootstrap: Record<number, string[]>, heartbeatMs: number, announceMs: number }
  | { type: 'state' }
  | { type: 'usage' }
  /** Watch for node 0's checkpoint of this size at every hosted node (and for its quorum, where node 0 is). */
  | { type: 'expect', size: number }
  /** Node 0 adds an entry; answered when its checkpoint is out. */
  | { type: 'add', label: string }
  /** Answered when every hosted node but node 0 has the expected checkpoint (and node 0 its quorum). */
  | { type: 'arrivals' }
  | { type: 'stop' }

export interface WorkerState {
  mesh: number[]
  connections: number[]
  topicPeers: number[]
  meshed: boolean
  /** Whether node 0 (if hosted) knows every witness's descriptor. */
  witnessesKnown: boolean
}

export const clock = (): number => performance.timeOrigin + performance.now()

const nodes: BenchNode[] = []
const written = { closed: 0, open: new Set<Socket>() }
const track = (message: unknown): void => {
  const socket = (message as { socket: Socket }).socket
  written.open.add(socket)
  socket.once('close', () => { written.closed += socket.bytesWritten; written.open.delete(socket) })
}
subscribe('net.client.socket', track)
subscribe('net.server.socket', track)

let watch: { size: number, seen: Map<number, number>, quorumAt: number | undefined, offs: Array<() => void> } | undefined

async function handle (m: WorkerRequest): Promise<unknown> {
  switch (m.type) {
    case 'start': {
      useNodeSha256()
      const policy = TrustPolicy.parse(policyText(m.nodes))
      const addrs: Record<number, string[]> = {}
      for (const i of m.indices) {
        const here = bootstrapOf(i).filter((j) => addrs[j] !== undefined).flatMap((j) => addrs[j]!)
        const node = await startNode(i, policy, [...(m.bootstrap[i] ?? []), ...here], { heartbeatMs: m.heartbeatMs, announceMs: m.announceMs })
        nodes.push(node)
        addrs[i] = node.federation.multiaddrs
      }
      return { addrs }
    }
    case 'state': {
      const topic = nodes[0]!.federation.topics.checkpoints
      const zero = nodes.find((n) => n.index === 0)
      const announced = zero === undefined ? [] : (zero.federation.statusJson() as { announced: Array<{ witness: string | null }> }).announced
      return {
        mesh: nodes.map((n) => meshPeers(n.federation, topic)),
        connections: nodes.map((n) => n.federation.network.getConnections().length),
        topicPeers: nodes.map((n) => n.federation.network.services.pubsub.getSubscribers(topic).length),
        meshed: nodes.every((n) => meshed(n.federation, topic)),
        witnessesKnown: zero === undefined || WITNESSES.every((i) => announced.some((d) => d.witness === witnessVkey(i))),
      } satisfies WorkerState
    }
    case 'usage': {
      const { user, system } = process.cpuUsage()
      let bytes = written.closed
      for (const s of written.open) bytes += s.bytesWritten
      return { cpu: user + system, bytes, at: clock() }
    }
    case 'expect': {
      const w = { size: m.size, seen: new Map<number, number>(), quorumAt: undefined as number | undefined, offs: [] as Array<() => void> }
      for (const n of nodes) {
        if (n.index === 0) {
          w.offs.push(n.federation.on((e) => { if (e.type === 'quorum' && e.size === m.size) w.quorumAt ??= clock() }))
        } else {
          w.offs.push(n.federation.on((e) => {
            if (e.type === 'head' && e.origin === originOf(0) && e.size === m.size && !w.seen.has(n.index)) w.seen.set(n.index, clock())
          }))
        }
      }
      watch = w
      return {}
    }
    case 'add': {
      const zero = nodes.find((n) => n.index === 0)!
      const out = new Promise<{ size: number, at: number }>((resolve) => {
        const off = zero.log.onCheckpoint((cp) => { off(); resolve({ size: cp.size, at: clock() }) })
      })
      await zero.log.add(utf8(m.label))
      return await out
    }
    case 'arrivals': {
      const w = watch!
      const others = nodes.filter((n) => n.index !== 0).length
      const hasZero = nodes.some((n) => n.index === 0)
      const deadline = Date.now() + 10_000
      while ((w.seen.size < others || (hasZero && w.quorumAt === undefined)) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 5))
      for (const off of w.offs) off()
      watch = undefined
      return { arrived: w.seen.size, of: others, last: Math.max(0, ...w.seen.values()), quorumAt: w.quorumAt ?? null }
    }
    case 'stop': {
      for (const n of nodes.reverse()) await stopNode(n)
      return {}
    }
  }
}

process.on('message', (m: WorkerRequest) => {
  handle(m).then((answer) => { process.send!({ ok: true, answer }) }, (err: unknown) => { process.send!({ ok: false, error: (err as Error).stack ?? String(err) }) })
})
process.on('disconnect', () => { process.exit(0) })
