/**
 * The receipt keys of the mirrored origins: every key an origin has announced in a signed descriptor
 * (the `receipt-key` line, verified with the trust policy), oldest first, kept in the federation store
 * before it is used. A mirror accepts a receipt seal under any of them: a seal only binds a root that
 * the origin's log key signed as well, so a key the origin has since replaced adds no power, and seals
 * stored before a change stay valid for the receipts the mirror mints from them.
 *
 * Stored value: the keys as base64url COSE_Key strings, one per line.
 */
import { decodeCoseKey, fromBase64Url, fromUtf8, utf8, type Verifier } from '@scitt/core'
import { nodeSignatures } from '@scitt/node-crypto'
import { STORE_KEYS } from '../store-layout.js'
import type { FederationDb } from '../witness/store.js'

/** More keys than any rotation history needs; the oldest is dropped beyond it. */
export const MAX_RECEIPT_KEYS = 16

/** The verifier of a base64url COSE_Key (MALFORMED / UNSUPPORTED as core's decodeCoseKey). */
export function receiptVerifierOf (receiptKey: string): Verifier {
  const key = decodeCoseKey(fromBase64Url(receiptKey))
  return nodeSignatures.verifier(key.algorithm, key.publicKey)
}

/** The keys kept for an origin, in the stored order (none when nothing is kept). */
export async function keptReceiptKeys (store: Pick<FederationDb, 'get'>, origin: string): Promise<string[]> {
  const value = await store.get(STORE_KEYS.mirrorReceiptKeys(origin))
  return value === undefined ? [] : fromUtf8(value).split('\n').filter((line) => line !== '')
}

export class ReceiptKeys {
  readonly #store: FederationDb
  readonly #keys = new Map<string, { encoded: string[], verifiers: Verifier[] }>()

  constructor (store: FederationDb) {
    this.#store = store
  }

  /** Reads the kept keys of `origin` (once, before its mirror opens). */
  async load (origin: string): Promise<void> {
    const encoded = await keptReceiptKeys(this.#store, origin)
    this.#keys.set(origin, { encoded, verifiers: encoded.map(receiptVerifierOf) })
  }

  /** The verifiers of every key known for `origin`. */
  verifiers (origin: string): readonly Verifier[] {
    return this.#keys.get(origin)?.verifiers ?? []
  }

  /** Adds a key from a verified descriptor, persisted (synced) before it counts; false when already known. */
  async learn (origin: string, receiptKey: string): Promise<boolean> {
    const known = this.#keys.get(origin) ?? { encoded: [], verifiers: [] }
    if (known.encoded.includes(receiptKey)) return false
    const verifier = receiptVerifierOf(receiptKey)
    const encoded = [...known.encoded, receiptKey].slice(-MAX_RECEIPT_KEYS)
    await this.#store.put(STORE_KEYS.mirrorReceiptKeys(origin), utf8(encoded.map((k) => `${k}\n`).join('')), { sync: true })
    this.#keys.set(origin, { encoded, verifiers: [...known.verifiers, verifier].slice(-MAX_RECEIPT_KEYS) })
    return true
  }
}
