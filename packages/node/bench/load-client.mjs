// Load generator for node.bench.ts, run as a child process so that its HTTP client work does not
// share the server's event loop. argv: URL FILE MODE (closed CONCURRENCY | open RATE DURATION_MS).
// FILE holds pre-signed statements, each a u32be length and the bytes. Prints one JSON line:
// { statuses, elapsedMs, latenciesMs } (latencies of 201 responses: POST → receipt).
import { readFileSync } from 'node:fs'
import { Agent, request } from 'node:http'

const [url, file, mode, a, b] = process.argv.slice(2)
const data = readFileSync(file)
const bodies = []
for (let at = 0; at < data.length;) {
  const n = data.readUInt32BE(at)
  bodies.push(data.subarray(at + 4, at + 4 + n))
  at += 4 + n
}
const agent = new Agent({ keepAlive: true, maxSockets: mode === 'closed' ? Number(a) : 256 })
const target = new URL('/entries', url)
const statuses = {}
const latencies = []

function post (body) {
  return new Promise((resolve) => {
    const started = performance.now()
    const req = request(target, { method: 'POST', agent, headers: { 'content-type': 'application/cose', 'content-length': body.length } }, (res) => {
      res.resume()
      res.on('end', () => {
        statuses[res.statusCode] = (statuses[res.statusCode] ?? 0) + 1
        if (res.statusCode === 201) latencies.push(performance.now() - started)
        resolve()
      })
    })
    req.on('error', () => { statuses.error = (statuses.error ?? 0) + 1; resolve() })
    req.end(body)
  })
}

const start = performance.now()
if (mode === 'closed') {
  let next = 0
  await Promise.all(Array.from({ length: Number(a) }, async () => {
    while (next < bodies.length) await post(bodies[next++])
  }))
} else {
  const rate = Number(a)
  const duration = Number(b)
  const inflight = []
  let sent = 0
  while (performance.now() - start < duration && sent < bodies.length) {
    const due = Math.floor(((performance.now() - start) / 1000) * rate)
    while (sent < due && sent < bodies.length) inflight.push(post(bodies[sent++]))
    await new Promise((r) => setTimeout(r, 2))
  }
  await Promise.all(inflight)
}
const elapsedMs = performance.now() - start
agent.destroy()
process.stdout.write(JSON.stringify({ statuses, elapsedMs, latenciesMs: latencies }) + '\n')
