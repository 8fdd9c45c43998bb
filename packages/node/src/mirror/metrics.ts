/** Prometheus metrics of mirroring and cross-registration, registered in the node's registry. */
import { Counter, Gauge, type Registry } from 'prom-client'

export class MirrorMetrics {
  readonly size: Gauge<'origin'>
  readonly target: Gauge<'origin'>
  readonly entries: Counter<'origin'>
  readonly badData: Counter<'origin'>
  readonly crossRegistered: Counter<'origin' | 'outcome'>

  constructor (registry: Registry) {
    const registers = [registry]
    this.size = new Gauge({ name: 'scitt_mirror_tree_size', help: 'Entries of each mirrored log stored and verified here', labelNames: ['origin'], registers })
    this.target = new Gauge({ name: 'scitt_mirror_target_size', help: 'Latest signed size of each mirrored log seen in the federation', labelNames: ['origin'], registers })
    this.entries = new Counter({ name: 'scitt_mirror_entries_total', help: 'Entries mirrored (each verified against the origin\'s signed root)', labelNames: ['origin'], registers })
    this.badData = new Counter({ name: 'scitt_mirror_bad_data_total', help: 'Answers from peers rejected because they did not match the origin\'s signed checkpoints', labelNames: ['origin'], registers })
    this.crossRegistered = new Counter({ name: 'scitt_cross_registrations_total', help: 'Mirrored entries considered for this node\'s own log, by outcome', labelNames: ['origin', 'outcome'], registers })
  }
}
