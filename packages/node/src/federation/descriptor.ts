/**
 * A node's announce descriptor (docs/wire-formats.md "Announce descriptor"): a C2SP signed note
 * signed by the node's log key, so that a peer trusts it exactly as far as it trusts the origin.
 *
 *   scitt-announce/v1
 *   origin <origin>
 *   peer <libp2p peer id>
 *   addr <multiaddr>            (0..16 lines)
 *   witness <witness vkey>      (optional; type 0x04)
 *   receipt-key <base64url COSE_Key>   (optional)
 *   http <URL>                  (optional)
 *   sector <name>               (optional)
 *   mirror <origin>             (0..64 lines: the other logs it mirrors)
 *   roles <role>[,<role>...]    (may be empty)
 *   time <POSIX seconds>
 */
import {
  ScittError, isValidKeyName, malformed, parseNote, parseVkey, signNote, verifyNote, formatNote, NOTE_KEY_TYPE_COSIGNATURE_V1,
  type NoteSigner, type NoteVerifier,
} from '@scitt/core'

export interface Descriptor {
  origin: string
  peer: string
  addrs: string[]
  witness?: string
  receiptKey?: string
  http?: string
  sector?: string
  /** Other origins whose logs this node mirrors (and serves over the log-data protocol). */
  mirrors?: string[]
  roles: string[]
  time: number
}

const HEADER = 'scitt-announce/v1'
const MAX_DESCRIPTOR = 16 * 1024
const MAX_ADDRS = 16
const MAX_MIRRORS = 64
const TOKEN = /^[\x21-\x7e]{1,2048}$/

export function formatDescriptorText (d: Descriptor): string {
  const lines = [HEADER, `origin ${d.origin}`, `peer ${d.peer}`, ...d.addrs.map((a) => `addr ${a}`)]
  if (d.witness !== undefined) lines.push(`witness ${d.witness}`)
  if (d.receiptKey !== undefined) lines.push(`receipt-key ${d.receiptKey}`)
  if (d.http !== undefined) lines.push(`http ${d.http}`)
  if (d.sector !== undefined) lines.push(`sector ${d.sector}`)
  for (const origin of d.mirrors ?? []) lines.push(`mirror ${origin}`)
  lines.push(`roles ${d.roles.join(',')}`, `time ${d.time}`)
  return lines.map((l) => `${l}\n`).join('')
}

export function signDescriptor (d: Descriptor, logSigner: NoteSigner): string {
  return formatNote(signNote(formatDescriptorText(d), [logSigner]))
}

/** Strict parser of the descriptor text (MALFORMED on any deviation, fields in the order above). */
export function parseDescriptorText (text: string): Descriptor {
  const lines = text.split('\n')
  if (lines.pop() !== '' || lines.shift() !== HEADER) throw malformed('not a scitt-announce/v1 descriptor')
  const take = (key: string, optional = false): string | undefined => {
    const line = lines[0]
    if (line?.startsWith(`${key} `) !== true) {
      if (optional) return undefined
      throw malformed(`descriptor: expected "${key}"`)
    }
    lines.shift()
    const value = line.slice(key.length + 1)
    if (key !== 'roles' && !TOKEN.test(value)) throw malformed(`descriptor: bad ${key}`)
    return value
  }
  const origin = take('origin')!
  if (!isValidKeyName(origin)) throw malformed('descriptor: bad origin')
  const peer = take('peer')!
  const addrs: string[] = []
  for (let a = take('addr', true); a !== undefined; a = take('addr', true)) {
    if (addrs.length === MAX_ADDRS) throw malformed('descriptor: too many addresses')
    addrs.push(a)
  }
  const d: Descriptor = { origin, peer, addrs, roles: [], time: 0 }
  const witness = take('witness', true)
  if (witness !== undefined) {
    if (parseVkey(witness).type !== NOTE_KEY_TYPE_COSIGNATURE_V1) throw malformed('descriptor: witness vkey must be cosignature/v1')
    d.witness = witness
  }
  const receiptKey = take('receipt-key', true)
  if (receiptKey !== undefined) d.receiptKey = receiptKey
  const http = take('http', true)
  if (http !== undefined) {
    if (!URL.canParse(http)) throw malformed('descriptor: bad http URL')
    d.http = http
  }
  const sector = take('sector', true)
  if (sector !== undefined) d.sector = sector
  const mirrors: string[] = []
  for (let m = take('mirror', true); m !== undefined; m = take('mirror', true)) {
    if (mirrors.length === MAX_MIRRORS || !isValidKeyName(m)) throw malformed('descriptor: bad or too many mirror lines')
    mirrors.push(m)
  }
  if (mirrors.length > 0) d.mirrors = mirrors
  const roles = take('roles')!
  d.roles = roles === '' ? [] : roles.split(',')
  if (d.roles.some((r) => !/^[a-z-]{1,32}$/.test(r)) || d.roles.length > 8) throw malformed('descriptor: bad roles')
  const time = take('time')!
  if (!/^(0|[1-9][0-9]{0,15})$/.test(time) || !Number.isSafeInteger(Number(time))) throw malformed('descriptor: bad time')
  d.time = Number(time)
  if (lines.length !== 0) throw malformed('descriptor: unexpected lines')
  return d
}

/**
 * Parses and verifies a signed descriptor against the origin's trusted log keys: UNKNOWN_ORIGIN when
 * `keysFor` has none, BAD_SIGNATURE when none of them signed, MALFORMED / TOO_LARGE on bad bytes.
 */
export function openDescriptor (input: Uint8Array, keysFor: (origin: string) => NoteVerifier[]): Descriptor {
  if (input.length > MAX_DESCRIPTOR) throw new ScittError('TOO_LARGE', 'descriptor too large')
  const note = parseNote(input)
  const d = parseDescriptorText(note.text)
  const keys = keysFor(d.origin)
  if (keys.length === 0) throw new ScittError('UNKNOWN_ORIGIN', `descriptor for unknown origin ${JSON.stringify(d.origin)}`)
  verifyNote(note, keys)
  return d
}
