/**
 * C2SP tlog-policy: which logs a checkpoint may come from and which witness cosignatures it needs.
 *
 *   log <vkey> [<url>]
 *   witness <name> <vkey> [<url>]
 *   group <name> <k|all|any> <member>...
 *   quorum <name|none>
 *
 * Items are separated by spaces and tabs; blank lines and lines whose first item starts with "#" are
 * ignored. Deviations from the octet-oriented spec: byte input must be valid UTF-8, and the final newline
 * may be missing (as Go's transparency-dev/formats accepts).
 */
import { toHex, utf8 } from '../bytes.js'
import { portableSignatures } from '../crypto/portable.js'
import type { SignatureProvider } from '../crypto/signature.js'
import { type ErrorCode, ScittError, malformed } from '../errors.js'
import { parseCheckpoint, type Checkpoint } from './checkpoint.js'
import { parseCosignature } from './cosignature.js'
import {
  NOTE_KEY_TYPE_COSIGNATURE_V1, NOTE_KEY_TYPE_ED25519, parseNote, verifyNote,
  type Note, type NoteSignature, type NoteVerifier,
} from './signed-note.js'
import { decodeText, parseDecimal } from './text.js'
import { noteVerifierFromVkey, parseVkey } from './vkey.js'

/** Bounds on a policy: the spec asks for at least 32 logs, 32 witnesses and 32 groups. */
export const POLICY_LIMITS = { size: 262_144, logs: 256, witnesses: 256, groups: 256 } as const

export interface PolicyLog {
  /** The vkey as written. Its key name is the log's origin. */
  vkey: string
  name: string
  keyId: number
  url?: string
  verifier: NoteVerifier
}

export interface PolicyWitness {
  /** The witness's name inside the policy. */
  name: string
  vkey: string
  /** The key name in the vkey, which its cosignature lines carry. */
  keyName: string
  keyId: number
  url?: string
  verifier: NoteVerifier
}

export interface PolicyGroup {
  name: string
  /** 1 ≤ threshold ≤ members.length ("any" = 1, "all" = members.length). */
  threshold: number
  members: string[]
}

export interface Policy {
  logs: PolicyLog[]
  /** Witnesses by policy name, in definition order. */
  witnesses: Map<string, PolicyWitness>
  /** Groups by name, in definition order (a group only names earlier witnesses and groups). */
  groups: Map<string, PolicyGroup>
  /** The witness or group whose witnessing makes a checkpoint valid; null for `quorum none`. */
  quorum: string | null
}

const FIELD_SEPARATOR = /[ \t]+/

/**
 * Strict tlog-policy parser. MALFORMED (with the line number) for unknown keywords, wrong item counts,
 * names used before being defined, duplicate names or public keys, a member listed twice, a threshold
 * outside 1..n or not canonical, a missing or second quorum line, and vkeys of the wrong type (logs
 * 0x01, witnesses 0x04); UNSUPPORTED for other vkey types; TOO_LARGE beyond POLICY_LIMITS.
 */
export function parsePolicy (input: Uint8Array | string, provider: SignatureProvider = portableSignatures): Policy {
  const text = decodeText(input, POLICY_LIMITS.size, 'policy', true)
  if (text.includes('\x7f')) throw malformed('policy contains the control character U+007F')
  const policy: Policy = { logs: [], witnesses: new Map(), groups: new Map(), quorum: null }
  let quorumLine = 0
  const logKeys = new Set<string>()
  const witnessKeys = new Set<string>()
  const witnessIds = new Set<string>()
  const members = new Set<string>()
  const defined = (name: string): boolean => policy.witnesses.has(name) || policy.groups.has(name)

  const lines = text.split('\n')
  if (lines[lines.length - 1] === '') lines.pop()
  lines.forEach((raw, i) => {
    const fail = (message: string, code: ErrorCode = 'MALFORMED', cause?: unknown): ScittError =>
      new ScittError(code, `policy line ${i + 1}: ${message}`, { cause, details: { line: i + 1 } })
    const vkeyOf = (vkey: string, type: number, what: string): { verifier: NoteVerifier, key: string } => {
      let parsed
      try {
        parsed = parseVkey(vkey)
      } catch (cause) {
        throw fail(`invalid ${what} vkey: ${(cause as Error).message}`, cause instanceof ScittError ? cause.code : 'MALFORMED', cause)
      }
      if (parsed.type !== type) throw fail(`${what} vkey must have signature type 0x0${type}`)
      return { verifier: noteVerifierFromVkey(vkey, provider), key: toHex(parsed.publicKey) }
    }
    const newName = (name: string): string => {
      if (name === 'none') throw fail('"none" is reserved')
      if (defined(name)) throw fail(`duplicate name ${JSON.stringify(name)}`)
      return name
    }

    const fields = raw.split(FIELD_SEPARATOR).filter((f) => f !== '')
    const keyword = fields[0]
    if (keyword === undefined || keyword.startsWith('#')) return
    switch (keyword) {
      case 'log': {
        if (fields.length < 2 || fields.length > 3) throw fail('expected "log <vkey> [<url>]"')
        if (policy.logs.length === POLICY_LIMITS.logs) throw fail(`more than ${POLICY_LIMITS.logs} logs`, 'TOO_LARGE')
        const vkey = fields[1]!
        const { verifier, key } = vkeyOf(vkey, NOTE_KEY_TYPE_ED25519, 'log')
        if (logKeys.has(key)) throw fail('duplicate log public key')
        logKeys.add(key)
        policy.logs.push({ vkey, name: verifier.name, keyId: verifier.keyId, verifier, ...(fields[2] === undefined ? {} : { url: fields[2] }) })
        return
      }
      case 'witness': {
        if (fields.length < 3 || fields.length > 4) throw fail('expected "witness <name> <vkey> [<url>]"')
        if (policy.witnesses.size === POLICY_LIMITS.witnesses) throw fail(`more than ${POLICY_LIMITS.witnesses} witnesses`, 'TOO_LARGE')
        const name = newName(fields[1]!)
        const vkey = fields[2]!
        const { verifier, key } = vkeyOf(vkey, NOTE_KEY_TYPE_COSIGNATURE_V1, 'witness')
        const id = `${verifier.name} ${verifier.keyId}`
        if (witnessKeys.has(key) || witnessIds.has(id)) throw fail('duplicate witness public key or key ID')
        witnessKeys.add(key)
        witnessIds.add(id)
        policy.witnesses.set(name, {
          name, vkey, keyName: verifier.name, keyId: verifier.keyId, verifier, ...(fields[3] === undefined ? {} : { url: fields[3] }),
        })
        return
      }
      case 'group': {
        if (fields.length < 4) throw fail('expected "group <name> <k|all|any> <member>..."')
        if (policy.groups.size === POLICY_LIMITS.groups) throw fail(`more than ${POLICY_LIMITS.groups} groups`, 'TOO_LARGE')
        const name = newName(fields[1]!)
        const list = fields.slice(3)
        for (const m of list) {
          if (!defined(m)) throw fail(`group member ${JSON.stringify(m)} is not defined on an earlier line`)
          if (members.has(m)) throw fail(`${JSON.stringify(m)} is listed as a group member more than once`)
          members.add(m)
        }
        const k = fields[2]!
        let threshold: number
        if (k === 'any') threshold = 1
        else if (k === 'all') threshold = list.length
        else {
          try {
            threshold = parseDecimal(k, 'threshold')
          } catch (cause) {
            throw fail(`threshold ${JSON.stringify(k)} is not "all", "any" or a decimal`, 'MALFORMED', cause)
          }
        }
        if (threshold < 1 || threshold > list.length) throw fail(`threshold ${threshold} is outside 1..${list.length}`)
        policy.groups.set(name, { name, threshold, members: list })
        return
      }
      case 'quorum': {
        if (fields.length !== 2) throw fail('expected "quorum <name>"')
        if (quorumLine !== 0) throw fail(`second quorum line (the first is line ${quorumLine})`)
        quorumLine = i + 1
        const name = fields[1]!
        if (name !== 'none' && !defined(name)) throw fail(`quorum ${JSON.stringify(name)} is not defined on an earlier line`)
        policy.quorum = name === 'none' ? null : name
        return
      }
      default:
        throw fail(`unknown keyword ${JSON.stringify(keyword)}`)
    }
  })
  if (quorumLine === 0) throw malformed('policy has no quorum line')
  return policy
}

/** A canonical policy file (definitions grouped by kind, numeric thresholds, no comments). */
export function formatPolicy (policy: Policy): string {
  const url = (u: string | undefined): string => (u === undefined ? '' : ` ${u}`)
  return [
    ...policy.logs.map((l) => `log ${l.vkey}${url(l.url)}\n`),
    ...[...policy.witnesses.values()].map((w) => `witness ${w.name} ${w.vkey}${url(w.url)}\n`),
    ...[...policy.groups.values()].map((g) => `group ${g.name} ${g.threshold} ${g.members.join(' ')}\n`),
    `quorum ${policy.quorum ?? 'none'}\n`,
  ].join('')
}

export interface PolicyResult {
  /** True when the quorum is met and no policy witness's cosignature is invalid. */
  ok: boolean
  /** Policy names of the witnesses with a valid cosignature, in definition order. */
  witnesses: string[]
  /** Policy names of the witnesses whose cosignature on the note does not verify. */
  invalid: string[]
}

/** True when the policy's quorum is satisfied by the `valid` witnesses (policy names). Groups only name earlier entries. */
export function witnessed (policy: Policy, valid: ReadonlySet<string>): boolean {
  if (policy.quorum === null) return true
  const satisfied = new Set(valid)
  for (const g of policy.groups.values()) {
    if (g.members.filter((m) => satisfied.has(m)).length >= g.threshold) satisfied.add(g.name)
  }
  return satisfied.has(policy.quorum)
}

/**
 * Which policy witnesses validly cosigned `note` (cosignature/v1 over its text), and whether they meet
 * the quorum (k-of-n, nested groups). With `now` (POSIX seconds), cosignatures timestamped after `now`
 * are not counted. Any policy witness's cosignature that fails makes `ok` false. Does not check the log
 * signature: see `checkCosignedCheckpoint`.
 */
export function policySatisfied (policy: Policy, note: Note, now?: number): PolicyResult {
  const text = utf8(note.text)
  const witnesses: string[] = []
  const invalid: string[] = []
  for (const w of policy.witnesses.values()) {
    const sig = note.signatures.find((s) => s.name === w.keyName && s.keyId === w.keyId)
    if (sig === undefined) continue
    if (!w.verifier.verify(text, sig.signature)) invalid.push(w.name)
    else if (now === undefined || !isFuture(sig, now)) witnesses.push(w.name)
  }
  return { ok: invalid.length === 0 && witnessed(policy, new Set(witnesses)), witnesses, invalid }
}

function isFuture (sig: NoteSignature, now: number): boolean {
  try {
    return parseCosignature(sig).timestamp > now
  } catch {
    return true // a verified cosignature with a timestamp above 2^53-1 is in the future
  }
}

export interface CosignedCheckpoint {
  checkpoint: Checkpoint
  note: Note
  /** Every verified signature (the log's and the witnesses'). */
  verified: NoteSignature[]
  /** Policy names of the witnesses whose cosignatures count. */
  witnesses: string[]
}

/**
 * The policy's full validity rule: the checkpoint is signed by a policy log whose key name equals its
 * origin (UNKNOWN_ORIGIN if the policy has no log for the origin, BAD_SIGNATURE if none of them signed
 * or any known signature fails) and its cosignatures meet the quorum (POLICY).
 */
export function checkCosignedCheckpoint (policy: Policy, input: Uint8Array | string, now?: number): CosignedCheckpoint {
  const note = parseNote(input)
  const checkpoint = parseCheckpoint(note.text)
  const logs = policy.logs.filter((l) => l.name === checkpoint.origin)
  if (logs.length === 0) throw new ScittError('UNKNOWN_ORIGIN', `the policy has no log for origin ${JSON.stringify(checkpoint.origin)}`)
  // Several keys may serve one origin (rotation): a signature by any one of them will do.
  const verified = verifyNote(note, [...logs.map((l) => l.verifier), ...[...policy.witnesses.values()].map((w) => w.verifier)])
  if (!verified.some((s) => logs.some((l) => l.name === s.name && l.keyId === s.keyId))) {
    throw new ScittError('BAD_SIGNATURE', `checkpoint is not signed by a policy log key for ${JSON.stringify(checkpoint.origin)}`, {
      details: { reason: 'no-log-signature' },
    })
  }
  const result = policySatisfied(policy, note, now)
  if (!result.ok) {
    throw new ScittError('POLICY', `checkpoint cosignatures do not meet quorum ${JSON.stringify(policy.quorum)} (valid: ${result.witnesses.join(', ') || 'none'})`, {
      details: { witnesses: result.witnesses, invalid: result.invalid },
    })
  }
  return { checkpoint, note, verified, witnesses: result.witnesses }
}
