/**
 * Prometheus metrics (prom-client) of one node, in its own registry so that several nodes can share a
 * process: registrations by outcome, integration latency, tree size, pending entries, HTTP latency.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client'

export class NodeMetrics {
  readonly registry = new Registry()
  readonly registrations = new Counter({
    name: 'scitt_registrations_total',
    help: 'POST /entries by outcome: 201, 303, or the error status or code',
    labelNames: ['outcome'] as const,
    registers: [this.registry],
  })

  readonly integrationSeconds = new Histogram({
    name: 'scitt_integration_seconds',
    help: 'Time from a checked statement to its durable integration in a signed checkpoint',
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [this.registry],
  })

  readonly treeSize = new Gauge({ name: 'scitt_tree_size', help: 'Size of the latest checkpoint', registers: [this.registry] })
  readonly pending = new Gauge({ name: 'scitt_pending_entries', help: 'Entries waiting for integration', registers: [this.registry] })
  readonly logSync = new Gauge({ name: 'scitt_log_sync', help: '1 when every integration batch is fsynced before it is acknowledged (log.sync); 0 when a power loss can lose acknowledged entries', registers: [this.registry] })
  readonly halted = new Gauge({ name: 'scitt_log_halted', help: '1 while the node refuses to sign because its data would fork its log (history guard)', registers: [this.registry] })
  readonly verifyQueue = new Gauge({ name: 'scitt_verify_in_flight', help: 'Statements queued or being verified on the worker pool', registers: [this.registry] })
  readonly httpSeconds = new Histogram({
    name: 'scitt_http_request_duration_seconds',
    help: 'HTTP request latency by route and status',
    labelNames: ['method', 'route', 'status'] as const,
    buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [this.registry],
  })

  constructor (options: { defaultMetrics?: boolean } = {}) {
    if (options.defaultMetrics === true) collectDefaultMetrics({ register: this.registry })
  }
}
