/**
 * The node's libp2p host: TCP, Noise, Yamux, identify, bootstrap and gossipsub, with a persistent
 * Ed25519 peer key (the raw seed of the node's peer key file). Tuned for federations that may share one
 * machine (docs/stack-notes.md): loopback is always allowed by the connection manager, gossipsub ignores IP
 * colocation, messages carry their own signatures (StrictNoSign) and are identified by a hash of their
 * content, so a head relayed by many peers is one message. `Reject` verdicts cost the sender score on
 * the federation's topics.
 */
import { createHash } from 'node:crypto'
import { bootstrap } from '@libp2p/bootstrap'
import { generateKeyPairFromSeed } from '@libp2p/crypto/keys'
import { createPeerScoreParams, createTopicScoreParams } from '@libp2p/gossipsub/score'
import { gossipsub, type GossipSub } from '@libp2p/gossipsub'
import { identify } from '@libp2p/identify'
import { noise } from '@libp2p/noise'
import { tcp } from '@libp2p/tcp'
import { yamux } from '@libp2p/yamux'
import type { Libp2p } from '@libp2p/interface'
import { createLibp2p } from 'libp2p'

export type Network = Libp2p<{ identify: ReturnType<ReturnType<typeof identify>>, pubsub: GossipSub }>

export interface NetworkOptions {
  /** 32-byte Ed25519 seed: the peer id is stable across restarts. */
  peerSeed: Uint8Array
  /** Listen multiaddrs, e.g. `/ip4/127.0.0.1/tcp/0`. */
  listen: string[]
  /** Multiaddrs with `/p2p/<id>` of peers to dial at start. */
  bootstrap: string[]
  /** Topics whose invalid messages lower the sender's score. */
  scoredTopics: string[]
  /** Gossipsub heartbeat, ms (federation.heartbeatMs). */
  heartbeatMs: number
}

/** Content-hash message id: SHA-256 of topic and data (the same head relayed twice is one message). */
export function messageId (topic: string, data: Uint8Array): Uint8Array {
  return createHash('sha256').update(topic).update(Uint8Array.of(0)).update(data).digest()
}

export async function createNetwork (options: NetworkOptions): Promise<Network> {
  const privateKey = await generateKeyPairFromSeed('Ed25519', options.peerSeed)
  const topics = Object.fromEntries(options.scoredTopics.map((t) => [t, createTopicScoreParams({
    topicWeight: 1,
    timeInMeshWeight: 0,
    firstMessageDeliveriesWeight: 0,
    meshMessageDeliveriesWeight: 0,
    meshFailurePenaltyWeight: 0,
    invalidMessageDeliveriesWeight: -100,
    invalidMessageDeliveriesDecay: 0.9,
  })]))
  return await createLibp2p({
    privateKey,
    addresses: { listen: options.listen },
    transports: [tcp()],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux()],
    connectionManager: { allow: ['/ip4/127.0.0.1', '/ip6/::1'], inboundConnectionThreshold: 1000 },
    peerDiscovery: options.bootstrap.length === 0 ? [] : [bootstrap({ list: options.bootstrap, timeout: 0 })],
    services: {
      identify: identify(),
      pubsub: gossipsub({
        globalSignaturePolicy: 'StrictNoSign',
        msgIdFn: (msg) => messageId(msg.topic, msg.data),
        allowPublishToZeroTopicPeers: true,
        emitSelf: false,
        heartbeatInterval: options.heartbeatMs,
        scoreParams: createPeerScoreParams({ IPColocationFactorWeight: 0, topics }),
      }),
    },
  })
}
