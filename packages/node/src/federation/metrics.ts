/** Prometheus metrics of the federation service, registered in the node's registry. */
import { Counter, Histogram, type Registry } from 'prom-client'

export class FederationMetrics {
  readonly gossip: Counter<'topic' | 'verdict'>
  readonly evidence: Counter<'kind'>
  readonly cosignatures: Counter<'witness' | 'outcome'>
  readonly witnessRequests: Counter<'status'>
  readonly quorumSeconds: Histogram

  constructor (registry: Registry) {
    const registers = [registry]
    this.gossip = new Counter({ name: 'scitt_gossip_messages_total', help: 'Gossip messages validated, by topic and verdict', labelNames: ['topic', 'verdict'], registers })
    this.evidence = new Counter({ name: 'scitt_equivocation_evidence_total', help: 'Equivocation evidence recorded, by kind', labelNames: ['kind'], registers })
    this.cosignatures = new Counter({ name: 'scitt_witness_cosignatures_total', help: 'Cosignatures requested from witnesses for this log, by outcome', labelNames: ['witness', 'outcome'], registers })
    this.witnessRequests = new Counter({ name: 'scitt_witness_requests_total', help: 'add-checkpoint requests answered by this node as a witness, by status', labelNames: ['status'], registers })
    this.quorumSeconds = new Histogram({
      name: 'scitt_witness_quorum_seconds',
      help: 'Time from a checkpoint of this log to the policy quorum of cosignatures',
      buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers,
    })
  }
}
