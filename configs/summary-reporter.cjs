'use strict'
// Mocha's spec reporter, followed by the plain closing line CI reads: "N passed, N failed".
//
// It is also the suite's watchdog, so that a run cannot hang:
// - after the last test, the process has SCITT_EXIT_GRACE_S (default 20) seconds to exit by itself;
//   if something keeps it alive (a leaked socket, timer, child process), the reporter names what,
//   counts one more failure and exits 1;
// - the whole run has SCITT_SUITE_LIMIT_S seconds (default 1500); when it is hit, the reporter names
//   the test that was running and what is alive, and exits 1.
// Both timers are unref'd: they never keep a finished run alive.
const Mocha = require('mocha')
const { Spec } = Mocha.reporters
const { EVENT_RUN_END, EVENT_TEST_BEGIN, EVENT_HOOK_BEGIN } = Mocha.Runner.constants

const seconds = (name, fallback) => {
  const value = Number(process.env[name] ?? fallback)
  return Number.isFinite(value) && value > 0 ? value : fallback
}

/** What keeps the event loop alive, one line per handle, in words a reader can act on. */
function alive () {
  const lines = []
  for (const handle of process._getActiveHandles()) {
    const type = handle?.constructor?.name ?? typeof handle
    if (handle === process.stdout || handle === process.stderr || handle === process.stdin) continue
    if (type === 'Socket' || type === 'TLSSocket') {
      const local = handle.localAddress !== undefined ? `${handle.localAddress}:${handle.localPort}` : '?'
      const remote = handle.remoteAddress !== undefined ? `${handle.remoteAddress}:${handle.remotePort}` : 'not connected'
      lines.push(`socket ${local} -> ${remote}`)
    } else if (type === 'Server') {
      const address = typeof handle.address === 'function' ? handle.address() : undefined
      lines.push(`server listening on ${address !== null && typeof address === 'object' ? `${address.address}:${address.port}` : String(address)}`)
    } else if (type === 'ChildProcess') {
      lines.push(`child process ${handle.pid} (${(handle.spawnargs ?? []).join(' ').slice(0, 160)})`)
    } else if (type === 'Timeout' || type === 'Immediate') {
      const fn = handle._onTimeout
      const source = typeof fn === 'function' ? String(fn).replace(/\s+/g, ' ').slice(0, 160) : ''
      lines.push(`${type.toLowerCase()} every ${handle._repeat ?? handle._idleTimeout} ms: ${source}`)
    } else {
      lines.push(type)
    }
  }
  const resources = process.getActiveResourcesInfo().filter((name) => name !== 'TTYWrap')
  lines.push(`active resources: ${resources.join(', ') || 'none'}`)
  return lines
}

class SummaryReporter extends Spec {
  constructor (runner, options) {
    super(runner, options)
    let running = 'no test yet'
    const ended = { done: false }
    runner.on(EVENT_TEST_BEGIN, (test) => { running = test.fullTitle() })
    runner.on(EVENT_HOOK_BEGIN, (hook) => { running = hook.fullTitle() })

    const fail = (why) => {
      const { passes, failures } = runner.stats
      process.stdout.write(`\nwatchdog: ${why}\n${alive().map((line) => `  ${line}`).join('\n')}\n`)
      process.stdout.write(`\n${passes} passed, ${failures + 1} failed\n`)
      // Mocha sets the exit code to its failure count in an 'exit' listener; this one comes after it.
      process.on('exit', () => { process.exitCode = 1 })
      process.exit(1)
    }
    const limit = seconds('SCITT_SUITE_LIMIT_S', 1500)
    setTimeout(() => {
      if (!ended.done) fail(`the run hit its ${limit} s limit while running: ${running}`)
    }, limit * 1000).unref()

    runner.once(EVENT_RUN_END, () => {
      ended.done = true
      const { passes, failures, pending } = runner.stats
      const skipped = pending > 0 ? `, ${pending} skipped` : ''
      process.stdout.write(`\n${passes} passed, ${failures} failed${skipped}\n`)
      const grace = seconds('SCITT_EXIT_GRACE_S', 20)
      setTimeout(() => fail(`the tests ended but the process did not exit within ${grace} s; alive:`), grace * 1000).unref()
    })
  }
}

module.exports = SummaryReporter
