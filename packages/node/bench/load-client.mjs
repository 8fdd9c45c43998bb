// Load generator for node.bench.ts, run as a child process so that its HTTP client work does not
// share the server's event loop. argv: URL FILE MODE (closed CONCURRENCY | open RATE DURATION_MS).
// FILE holds pre-signed statements, each a u32be length and the bytes. Prints one JSON line:
// { statuses, elapsedMs, latenciesMs, cpuMs, connections } (latencies of 201 responses: POST → receipt;
// in open mode measured from the moment the request was due, so queueing for a connection counts).
//
// The client is deliberately cheap so that on a small machine it does not take the server's cores:
// plain node:net keep-alive connections, every request pre-encoded (HTTP/1.1 head and body in one
// buffer) before the clock starts, one request in flight per connection (no pipelining), and a
// minimal parser for the server's Content-Length-framed responses.
import { readFileSync } from 'node:fs'
import { connect } from 'node:net'

const [url, file, mode, a, b] = process.argv.slice(2)
const target = new URL('/entries', url)
const data = readFileSync(file)
const requests = []
for (let at = 0; at < data.length;) {
  const n = data.readUInt32BE(at)
  const head = `POST ${target.pathname} HTTP/1.1\r\nHost: ${target.host}\r\nContent-Type: application/cose\r\nContent-Length: ${n}\r\n\r\n`
  requests.push(Buffer.concat([Buffer.from(head, 'latin1'), data.subarray(at + 4, at + 4 + n)]))
  at += 4 + n
}

const statuses = {}
const latencies = []
const count = (status) => { statuses[status] = (statuses[status] ?? 0) + 1 }
const CRLF2 = Buffer.from('\r\n\r\n')

/** One keep-alive connection: `send(request, started, done)` with one request in flight at a time. */
function connection () {
  let socket
  let buffered = Buffer.alloc(0)
  let current // { started, done }
  let opened = 0
  const open = () => {
    opened++
    buffered = Buffer.alloc(0)
    socket = connect({ host: target.hostname, port: Number(target.port), noDelay: true })
    socket.on('data', onData)
    socket.on('error', () => {})
    socket.on('close', () => {
      socket = undefined
      if (current !== undefined) finish('error', false)
    })
  }
  const finish = (status, close) => {
    const { started, done } = current
    current = undefined
    count(status)
    if (status === 201) latencies.push(performance.now() - started)
    if (close) socket?.destroy()
    done()
  }
  const onData = (chunk) => {
    buffered = buffered.length === 0 ? chunk : Buffer.concat([buffered, chunk])
    const end = buffered.indexOf(CRLF2)
    if (end < 0 || current === undefined) return
    const head = buffered.toString('latin1', 0, end).toLowerCase()
    const status = Number(head.slice(9, 12))
    const match = /\r\ncontent-length: *(\d+)/.exec(head)
    if (match === null) { // not framed by Content-Length: count it and drop the connection
      finish(status, true)
      return
    }
    const total = end + 4 + Number(match[1])
    if (buffered.length < total) return
    buffered = buffered.subarray(total)
    finish(status, /\r\nconnection: *close/.test(head))
  }
  return {
    opened: () => opened,
    send (request, started, done) {
      if (socket === undefined) open()
      current = { started, done }
      socket.write(request)
    },
    close () { socket?.destroy() },
  }
}

const cpu = process.cpuUsage()
const start = performance.now()
let connections = []
if (mode === 'closed') {
  connections = Array.from({ length: Number(a) }, connection)
  let next = 0
  await Promise.all(connections.map((c) => new Promise((resolve) => {
    const step = () => {
      if (next >= requests.length) return resolve()
      c.send(requests[next++], performance.now(), step)
    }
    step()
  })))
} else {
  // Open loop: requests are due at RATE per second; a due request waits for an idle connection
  // (at most 512 are opened), and its latency counts from when it was due.
  const rate = Number(a)
  const duration = Number(b)
  const idle = []
  const queue = []
  let sent = 0
  let settled = 0
  let finished
  const allDone = new Promise((resolve) => { finished = resolve })
  const last = Math.min(requests.length, Math.floor((duration / 1000) * rate))
  const dispatch = (c) => {
    const job = queue.shift()
    if (job === undefined) { idle.push(c); return }
    c.send(job.request, job.due, () => {
      if (++settled === last) finished()
      dispatch(c)
    })
  }
  if (last === 0) finished()
  while (sent < last) {
    const now = performance.now()
    const due = Math.min(last, Math.floor(((now - start) / 1000) * rate))
    while (sent < due) {
      queue.push({ request: requests[sent], due: start + (sent / rate) * 1000 })
      sent++
      const c = idle.pop() ?? (connections.length < 512 ? connections[connections.push(connection()) - 1] : undefined)
      if (c !== undefined) dispatch(c)
    }
    await new Promise((r) => setTimeout(r, 1))
  }
  await allDone
}
const elapsedMs = performance.now() - start
const used = process.cpuUsage(cpu)
for (const c of connections) c.close()
const opened = connections.reduce((n, c) => n + c.opened(), 0)
process.stdout.write(JSON.stringify({ statuses, elapsedMs, latenciesMs: latencies, cpuMs: (used.user + used.system) / 1000, connections: opened }) + '\n')
