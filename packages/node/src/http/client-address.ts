/**
 * Who an HTTP request comes from, for every per-client limit (registration, add-checkpoint, reads).
 * The client is the connection's peer address, unless that peer is one of `http.trustedProxies`:
 * then `X-Forwarded-For` is read from the right (each proxy appends the address it saw) and the client
 * is the first address that is not a trusted proxy. A malformed or missing element stops the walk at
 * the last address known good (a proxy cannot vouch for what came before a bad element). IPv4-mapped
 * IPv6 addresses are their IPv4 address. The limits count IPv4 clients per address and IPv6 clients
 * per network of `limits.ipv6Prefix` bits (`key`).
 */
import type { IncomingMessage } from 'node:http'
import { BlockList, isIP } from 'node:net'

/** Most X-Forwarded-For elements looked at, from the right. */
const MAX_HOPS = 32

export class ClientAddresses {
  readonly #trusted: BlockList | undefined
  readonly #ipv6Prefix: number

  /** `trustedProxies`: addresses or CIDR networks (validated by config.ts). */
  constructor (options: { trustedProxies: readonly string[], ipv6Prefix: number }) {
    this.#ipv6Prefix = options.ipv6Prefix
    if (options.trustedProxies.length === 0) return
    this.#trusted = new BlockList()
    for (const entry of options.trustedProxies) {
      const [address, prefix] = entry.split('/') as [string, string | undefined]
      const family = isIP(address) === 6 ? 'ipv6' : 'ipv4'
      if (prefix === undefined) this.#trusted.addAddress(address, family)
      else this.#trusted.addSubnet(address, Number(prefix), family)
    }
  }

  /** True when `address` (normalised) is a trusted proxy. */
  #isTrusted (address: string): boolean {
    return this.#trusted !== undefined && this.#trusted.check(address, isIP(address) === 6 ? 'ipv6' : 'ipv4')
  }

  /** The client's address (see the module comment); `unknown` when the socket has none (closed). */
  address (req: IncomingMessage): string {
    const peer = normalize(req.socket.remoteAddress ?? '')
    if (peer === undefined) return 'unknown'
    if (!this.#isTrusted(peer)) return peer
    const header = req.headers['x-forwarded-for']
    if (typeof header !== 'string') return peer
    const hops = header.split(',')
    let client = peer
    for (let i = hops.length - 1, seen = 0; i >= 0 && seen < MAX_HOPS; i--, seen++) {
      const hop = normalize(hops[i]!.trim())
      if (hop === undefined) return client
      client = hop
      if (!this.#isTrusted(hop)) return hop
    }
    return client
  }

  /** The key the per-client limits count `req` under: its IPv4 address, or its IPv6 network (`<hex>/<prefix>`). */
  key (req: IncomingMessage): string {
    return clientKey(this.address(req), this.#ipv6Prefix)
  }
}

/** An address as the limits see it: IPv4 as is, IPv6 as its network of `prefix` bits (`2001:db8:0:1::/64`). */
export function clientKey (address: string, prefix: number): string {
  if (isIP(address) !== 6) return address
  const groups = ipv6Groups(address)
  let bits = prefix
  const masked = groups.map((g) => {
    const keep = Math.max(0, Math.min(16, bits))
    bits -= 16
    return keep === 0 ? 0 : g & (0xffff << (16 - keep)) & 0xffff
  })
  return `${formatGroups(masked)}/${prefix}`
}

/** A valid address without an IPv6 zone, IPv4-mapped IPv6 as IPv4, IPv6 in lowercase; undefined when not an address. */
export function normalize (text: string): string | undefined {
  const address = text.startsWith('[') && text.endsWith(']') ? text.slice(1, -1) : text
  const family = isIP(address)
  if (family === 4) return address
  if (family !== 6 || address.includes('%')) return undefined
  const lower = address.toLowerCase()
  const mapped = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/.exec(lower)
  if (mapped !== null && isIP(mapped[1]!) === 4) return mapped[1]
  return lower
}

/** The eight 16-bit groups of a valid IPv6 address (with `::` and a dotted IPv4 tail). */
function ipv6Groups (address: string): number[] {
  const [head, tail] = address.includes('::') ? address.split('::') as [string, string] : [address, undefined]
  const parse = (part: string): number[] => part === '' ? [] : part.split(':').flatMap((g) => {
    if (!g.includes('.')) return [parseInt(g, 16)]
    const [a, b, c, d] = g.split('.').map(Number) as [number, number, number, number]
    return [(a << 8) | b, (c << 8) | d]
  })
  const left = parse(head)
  if (tail === undefined) return left
  const right = parse(tail)
  return [...left, ...new Array<number>(8 - left.length - right.length).fill(0), ...right]
}

/** RFC 5952 text of eight groups: lowercase, the longest run of two or more zero groups as `::`. */
function formatGroups (groups: number[]): string {
  let best = -1
  let bestLength = 1
  for (let i = 0; i < 8;) {
    if (groups[i] !== 0) { i++; continue }
    let j = i
    while (j < 8 && groups[j] === 0) j++
    if (j - i > bestLength) { best = i; bestLength = j - i }
    i = j
  }
  const hex = groups.map((g) => g.toString(16))
  if (best < 0) return hex.join(':')
  return `${hex.slice(0, best).join(':')}::${hex.slice(best + bestLength).join(':')}`
}
