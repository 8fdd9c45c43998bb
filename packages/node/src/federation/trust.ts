/**
 * A node's trust policy, in C2SP tlog-policy syntax (the same file a client passes to
 * `scitt verify --policy`): the `log` lines are the origins the node knows (by vkey), the `witness`
 * lines the witnesses whose cosignatures count, and `quorum` the k-of-n rule a cosigned checkpoint meets.
 */
import {
  parsePolicy, policySatisfied, witnessed, type Note, type NoteSignature, type NoteVerifier, type Policy, type PolicyResult, type PolicyWitness,
} from '@scitt/core'
import { nodeSignatures } from '@scitt/node-crypto'

export class TrustPolicy {
  readonly policy: Policy
  readonly #logs = new Map<string, NoteVerifier[]>()

  constructor (policy: Policy) {
    this.policy = policy
    for (const log of policy.logs) {
      const list = this.#logs.get(log.name) ?? []
      list.push(log.verifier)
      this.#logs.set(log.name, list)
    }
  }

  /** Parses a tlog-policy file (MALFORMED / UNSUPPORTED / TOO_LARGE, with the line number). */
  static parse (text: string | Uint8Array): TrustPolicy {
    return new TrustPolicy(parsePolicy(text, nodeSignatures))
  }

  get origins (): string[] {
    return [...this.#logs.keys()]
  }

  knows (origin: string): boolean {
    return this.#logs.has(origin)
  }

  /** The log keys trusted for an origin (several during a key rotation); empty when unknown. */
  logVerifiers (origin: string): NoteVerifier[] {
    return this.#logs.get(origin) ?? []
  }

  /** The witnesses of the policy, in definition order. */
  get witnesses (): PolicyWitness[] {
    return [...this.policy.witnesses.values()]
  }

  witnessVerifiers (): NoteVerifier[] {
    return this.witnesses.map((w) => w.verifier)
  }

  /**
   * The policy witnesses among signatures that were verified already (verifyNote with
   * `witnessVerifiers()`), and whether they meet the quorum: no signature is checked again.
   */
  judgeVerified (signatures: readonly NoteSignature[]): { witnesses: string[], ok: boolean } {
    const witnesses = this.witnesses.filter((w) => signatures.some((s) => s.name === w.keyName && s.keyId === w.keyId)).map((w) => w.name)
    return { witnesses, ok: witnessed(this.policy, new Set(witnesses)) }
  }

  /** Which policy witnesses validly cosigned the note, and whether they meet the quorum. */
  quorum (note: Note): PolicyResult {
    return policySatisfied(this.policy, note)
  }
}
