/**
 * The log-data protocol's answers (log-data.ts) under the read budget (read-budget.ts,
 * `limits.read`), per peer id: a request over its peer's limits or the node's is refused with
 * `error PUSHBACK: <reason>; retry after <n> s` (answer.ts) before anything is read; an admitted one
 * runs its store read within the budget's work bound and holds its answer's bytes until the answer has
 * been written to the stream.
 */
import type { HeldResponse } from '../p2p/protocols.js'
import { reservation, type ReadBudget, type ReadKind } from '../read-budget.js'
import { encodeAnswer } from './answer.js'
import { decodeLogDataRequest, serveLogData, type LogDataHoldings } from './log-data.js'

/** What a request reads, for its reservation; a request that does not parse is refused by serveLogData and reserves nothing. */
function kindOf (body: Uint8Array): ReadKind {
  try {
    const { resource } = decodeLogDataRequest(body)
    return resource.kind === 'hash' ? 'tile' : resource.kind === 'descriptor' ? 'held' : 'data'
  } catch {
    return 'held'
  }
}

export async function serveLogDataWithin (body: Uint8Array, holdings: LogDataHoldings, budget: ReadBudget, client: string): Promise<HeldResponse> {
  const admission = budget.admit(client, reservation(kindOf(body), false))
  if (!admission.admitted) {
    return { body: encodeAnswer({ refused: { code: 'PUSHBACK', reason: `${admission.reason}; retry after ${admission.retryAfter} s` } }), release: () => {} }
  }
  const { ticket } = admission
  try {
    const answer = await budget.work(async () => await serveLogData(body, holdings))
    ticket.hold(answer.length)
    return { body: answer, release: ticket.release }
  } catch (err) {
    ticket.release()
    throw err
  }
}
