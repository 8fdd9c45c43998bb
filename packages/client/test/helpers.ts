/**
 * Test fixtures: an in-memory log built with core (naive Merkle tree as an oracle, signed and cosigned
 * checkpoints, receipts, proof files, hash tiles) and a tiny node:http server that serves a log's
 * checkpoint and tiles on 127.0.0.1, a stand-in for a node (or a forked one).
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import {
  assembleReceipt, cosignCheckpoint, cosignatureSigner, coseKeyThumbprint, ed25519NoteSigner, encodeEntryBundle, encodeHashTile, formatCheckpoint,
  formatNote, formatProofFile, formatVkey, inclusionProof, leafHash, nodeHash, parseTilePath, portableSignatures, receiptProtectedHeader,
  sealCheckpoint, sha256Digest, signNote, utf8, EMPTY_ROOT, NOTE_KEY_TYPE_COSIGNATURE_V1, NOTE_KEY_TYPE_ED25519,
  type CoseKey, type NodeReader, type NoteSignature, type NoteSigner, type SignatureAlgorithm, type Signer,
} from '@scitt/core'

/** A deterministic 32-byte seed from a label. */
export function seed (label: string): Uint8Array {
  return sha256Digest(utf8(label))
}

export interface Witness {
  name: string
  signer: NoteSigner
  vkey: string
}

export function witness (name: string, timestamp = 1_700_000_000): Witness {
  const s = seed(`witness ${name}`)
  const signer = cosignatureSigner(name, s, () => timestamp)
  const pk = portableSignatures.signer('Ed25519', s).publicKey
  return { name, signer, vkey: formatVkey(name, NOTE_KEY_TYPE_COSIGNATURE_V1, pk) }
}

export class TestLog {
  readonly origin: string
  readonly logSigner: NoteSigner
  readonly vkey: string
  readonly receiptSigner: Signer
  readonly receiptKey: CoseKey & { kid: Uint8Array }
  readonly leaves: Uint8Array[] = []
  readonly entries: Uint8Array[] = []
  readonly #nodes = new Map<string, Uint8Array>()

  constructor (origin: string, receiptAlg: SignatureAlgorithm = 'ES256', keysOf?: TestLog) {
    this.origin = origin
    const logSeed = seed(`log ${origin}`)
    this.logSigner = ed25519NoteSigner(origin, logSeed)
    this.vkey = formatVkey(origin, NOTE_KEY_TYPE_ED25519, portableSignatures.signer('Ed25519', logSeed).publicKey)
    this.receiptSigner = keysOf?.receiptSigner ?? portableSignatures.signer(receiptAlg, portableSignatures.generateSecretKey(receiptAlg))
    const key: CoseKey = { algorithm: this.receiptSigner.algorithm, publicKey: this.receiptSigner.publicKey }
    this.receiptKey = { ...key, kid: coseKeyThumbprint(key) }
  }

  /** A copy of the first `size` entries, signed with the same keys: the base of a fork. */
  fork (size: number): TestLog {
    const copy = new TestLog(this.origin, this.receiptSigner.algorithm, this)
    for (const entry of this.entries.slice(0, size)) copy.append(entry)
    return copy
  }

  append (entry: Uint8Array): number {
    this.entries.push(entry)
    this.leaves.push(leafHash(entry))
    return this.leaves.length - 1
  }

  get size (): number {
    return this.leaves.length
  }

  /** MTH of the perfect subtree (level, index), naively from the leaves (memoized). */
  node (level: number, index: number): Uint8Array {
    if (level === 0) return this.leaves[index]!
    const key = `${level}/${index}`
    let h = this.#nodes.get(key)
    if (h === undefined) {
      h = nodeHash(this.node(level - 1, 2 * index), this.node(level - 1, 2 * index + 1))
      this.#nodes.set(key, h)
    }
    return h
  }

  /** RFC 9162 MTH(D[begin:end]) by the definition. */
  mth (begin: number, end: number): Uint8Array {
    const n = end - begin
    if (n === 0) return EMPTY_ROOT
    if (n === 1) return this.leaves[begin]!
    let k = 1
    while (k * 2 < n) k *= 2
    return nodeHash(this.mth(begin, begin + k), this.mth(begin + k, end))
  }

  root (size = this.size): Uint8Array {
    return this.mth(0, size)
  }

  reader: NodeReader = (ids) => ids.map((id) => this.node(id.level, id.index))

  checkpointText (size = this.size): string {
    return formatCheckpoint({ origin: this.origin, size, rootHash: this.root(size), extensions: [] })
  }

  /** The signed checkpoint note, with cosignatures by `witnesses`. */
  checkpoint (size = this.size, witnesses: Witness[] = []): string {
    const text = this.checkpointText(size)
    const note = signNote(text, [this.logSigner])
    const cosignatures: NoteSignature[] = witnesses.map((w) => cosignCheckpoint(text, w.signer))
    return formatNote({ text, signatures: [...note.signatures, ...cosignatures] })
  }

  async receipt (index: number, size = this.size): Promise<Uint8Array> {
    const protectedBytes = receiptProtectedHeader({ alg: this.receiptSigner.algorithm, kid: this.receiptKey.kid, iss: this.origin })
    const seal = sealCheckpoint(protectedBytes, this.root(size), this.receiptSigner)
    return assembleReceipt(seal, { treeSize: size, leafIndex: index, inclusionPath: await inclusionProof(index, size, this.reader) })
  }

  async proofFile (index: number, size = this.size, witnesses: Witness[] = []): Promise<string> {
    return formatProofFile({ index, proof: await inclusionProof(index, size, this.reader), checkpoint: this.checkpoint(size, witnesses) })
  }

  /** Hash tile bytes (C2SP tlog-tiles) at tree `size`. */
  tile (level: number, index: number, width: number): Uint8Array {
    const hashes: Uint8Array[] = []
    for (let i = 0; i < width; i++) hashes.push(this.node(8 * level, index * 256 + i))
    return encodeHashTile(hashes)
  }
}

/** A policy file: the logs, the witnesses, and a group with threshold k as the quorum. */
export function policyText (logs: TestLog[], witnesses: Witness[], k: number | 'none'): string {
  const lines = [...logs.map((l) => `log ${l.vkey}`), ...witnesses.map((w) => `witness ${w.name} ${w.vkey}`)]
  if (k === 'none' || witnesses.length === 0) lines.push('quorum none')
  else lines.push(`group wg ${k} ${witnesses.map((w) => w.name).join(' ')}`, 'quorum wg')
  return `${lines.join('\n')}\n`
}

export interface StubServer {
  url: string
  server: Server
  requests: string[]
  close (): Promise<void>
}

/** An HTTP server on 127.0.0.1 (random port) with a handler; records "METHOD path" of each request. */
export async function stubServer (handler: (req: IncomingMessage, res: ServerResponse, body: Uint8Array) => void | Promise<void>): Promise<StubServer> {
  const requests: string[] = []
  const server = createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      requests.push(`${req.method} ${req.url}`)
      Promise.resolve(handler(req, res, new Uint8Array(Buffer.concat(chunks)))).catch((err: Error) => {
        res.statusCode = 500
        res.end(err.message)
      })
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return {
    url: `http://127.0.0.1:${port}/`,
    server,
    requests,
    close: async () => new Promise<void>((resolve) => {
      server.closeAllConnections()
      server.close(() => resolve())
    }),
  }
}

/**
 * Serves a log's checkpoint (at `state.size`, cosigned by `state.witnesses`) and its tiles, like a node.
 * `corruptTiles` flips one bit of every hash tile, or with a tile path (e.g. "tile/0/000") of that one.
 */
export async function tileServer (state: { log: TestLog, size: number, witnesses?: Witness[], corruptTiles?: boolean | string, corruptEntries?: boolean }): Promise<StubServer> {
  return stubServer((req, res) => {
    const path = (req.url ?? '/').slice(1)
    if (path === 'checkpoint') {
      res.setHeader('content-type', 'text/plain; charset=utf-8')
      res.end(state.log.checkpoint(state.size, state.witnesses ?? []))
      return
    }
    let parsed
    try {
      parsed = parseTilePath(path)
    } catch {
      res.statusCode = 404
      res.end('not found')
      return
    }
    const { level, index, width } = parsed.tile
    const nodes = Math.floor(state.size / 256 ** level)
    if (index * 256 + width > nodes) {
      res.statusCode = 404
      res.end('no such tile')
      return
    }
    if (parsed.kind === 'entries') {
      const entries = state.log.entries.slice(index * 256, index * 256 + width)
      if (state.corruptEntries === true) entries[0] = utf8('not the logged entry')
      res.end(encodeEntryBundle(entries))
      return
    }
    const bytes = state.log.tile(level, index, width)
    if (state.corruptTiles === true || state.corruptTiles === path) bytes[0]! ^= 1
    res.setHeader('content-type', 'application/octet-stream')
    res.end(bytes)
  })
}

export interface FlippingProxy extends StubServer {
  /** The request paths whose response bodies were altered, in order. */
  flipped: string[]
}

/**
 * An HTTP proxy on 127.0.0.1 in front of `target` (a node on 127.0.0.1): passes each request through
 * (method, body, Accept and Content-Type) and answers with the upstream status, Content-Type, Location
 * and body, except that when `flip(path)` gives a byte offset inside a 2xx body, one bit of that byte is
 * flipped. Upstream requests time out after 10 s.
 */
export async function flippingProxy (target: string, flip: (path: string) => number | undefined): Promise<FlippingProxy> {
  const flipped: string[] = []
  const server = await stubServer(async (req, res, body) => {
    const path = req.url ?? '/'
    const headers: Record<string, string> = {}
    for (const h of ['accept', 'content-type']) if (typeof req.headers[h] === 'string') headers[h] = req.headers[h]
    const upstream = await fetch(new URL(path, target), {
      method: req.method ?? 'GET', headers, redirect: 'manual', signal: AbortSignal.timeout(10_000),
      ...(body.length === 0 ? {} : { body }),
    })
    const bytes = new Uint8Array(await upstream.arrayBuffer())
    const at = upstream.ok ? flip(path) : undefined
    if (at !== undefined && at < bytes.length) {
      bytes[at]! ^= 1
      flipped.push(path)
    }
    res.statusCode = upstream.status
    for (const h of ['content-type', 'location']) {
      const value = upstream.headers.get(h)
      if (value !== null) res.setHeader(h, value)
    }
    res.end(bytes)
  })
  return Object.assign(server, { flipped })
}
