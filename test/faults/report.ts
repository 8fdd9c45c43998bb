/**
 * The fault suite's report: every scenario records one row (cases run, faults injected,
 * entries acknowledged, entries found afterwards, result); after the whole run the table is printed,
 * and written as JSON to $FAULTS_REPORT when that is set.
 */
import { writeFileSync } from 'node:fs'

export interface ScenarioRow {
  /** Short name, e.g. "SIGKILL during registration load". */
  scenario: string
  /** Cases run (inputs tried, crash cycles, rounds). */
  cases: number
  /** Faults injected (kills, mutated inputs, forged messages, partitions). */
  faults: number
  /** Entries acknowledged to clients (201 or receipt) during the scenario; 0 where nothing is registered. */
  acknowledged: number
  /** Of those, entries found afterwards (must equal `acknowledged`). */
  found: number
  /** 'pass' when every check of the scenario held. */
  result: 'pass' | 'fail'
  /** One line on what was checked or measured (memory peak, latency, statuses seen). */
  notes?: string
}

const rows: ScenarioRow[] = []

/** Adds a row; a row whose `found` differs from `acknowledged` is a failure whatever `result` says. */
export function record (row: ScenarioRow): void {
  rows.push(row.found === row.acknowledged ? row : { ...row, result: 'fail' })
}

export function formatReport (list: readonly ScenarioRow[] = rows): string {
  const header = ['scenario', 'cases', 'faults', 'acked', 'found', 'result', 'notes']
  const lines = list.map((r) => [r.scenario, String(r.cases), String(r.faults), String(r.acknowledged), String(r.found), r.result, r.notes ?? ''])
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i]!.length)))
  const format = (cells: string[]): string => cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!))).join('  ').trimEnd()
  return [format(header), format(widths.map((w) => '-'.repeat(w))), ...lines.map(format)].join('\n')
}

after(function () {
  if (rows.length === 0) return
  process.stdout.write(`\nfault suite report\n${formatReport()}\n\n`)
  const file = process.env.FAULTS_REPORT
  if (file !== undefined && file !== '') writeFileSync(file, JSON.stringify(rows, null, 2) + '\n')
})
