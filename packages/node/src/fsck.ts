/**
 * `scitt-node fsck`: re-derives every root of the node's log from its stored entries (the log's fsck)
 * and checks every checkpoint signature and receipt seal with the node's own keys; then the same for
 * each mirrored log the config lists, with the origin's key from the trust policy and its receipt key
 * from the descriptor the node kept. Read-only.
 */
import { Level } from 'level'
import { decodeCoseKey, originHash, ed25519NoteVerifier, fromBase64Url, parseSkey, type Verifier } from '@scitt/core'
import { nodeSignatures } from '@scitt/node-crypto'
import { LEVELDB_OPTIONS, fsck, type FsckReport, type LogDatabase } from '@scitt/log'
import type { NodeConfig } from './config.js'
import { openDescriptor } from './federation/descriptor.js'
import { loadReceiptKey, loadSkey } from './keys.js'
import { LEGACY_KEYS, STORE_KEYS } from './store-layout.js'

export interface NodeFsckReport extends FsckReport {
  /** One report per mirrored log (`ok` above is false when any of them is not). */
  mirrors: Array<FsckReport & { origin: string }>
}

export async function fsckNode (config: NodeConfig): Promise<NodeFsckReport> {
  const { seed } = parseSkey(loadSkey(config.keys.log, config.origin), nodeSignatures)
  const logPublicKey = nodeSignatures.signer('Ed25519', seed).publicKey
  const receipt = loadReceiptKey(config.keys.receipt)
  const db = new Level<Uint8Array, Uint8Array>(config.dataDir, { ...LEVELDB_OPTIONS, createIfMissing: false })
  await db.open()
  try {
    const own = await fsck(db as unknown as LogDatabase, {
      origin: config.origin,
      unique: true,
      noteVerifier: ed25519NoteVerifier(config.origin, logPublicKey, nodeSignatures),
      receiptVerifier: nodeSignatures.verifier(receipt.coseKey.algorithm, receipt.coseKey.publicKey),
    })
    const mirrors: NodeFsckReport['mirrors'] = []
    const federation = db.sublevel<string, Uint8Array>('federation', { keyEncoding: 'utf8', valueEncoding: 'view' })
    for (const origin of config.federation?.mirror ?? []) {
      const noteVerifier = config.federation!.trust.logVerifiers(origin)[0]!
      // A data dir not yet opened by a node of the current layout keeps the descriptor under the earlier key.
      const kept = await federation.get(STORE_KEYS.mirrorDescriptor(origin)) ?? await federation.get(LEGACY_KEYS.mirrorDescriptor(origin))
      const receiptVerifier = await keptReceiptVerifier(kept, (o) => config.federation!.trust.logVerifiers(o))
      const report = await fsck(db.sublevel<Uint8Array, Uint8Array>(`m-${originHash(origin)}`, { keyEncoding: 'view', valueEncoding: 'view' }) as unknown as LogDatabase, {
        origin,
        unique: false,
        noteVerifier,
        ...(receiptVerifier === undefined ? {} : { receiptVerifier }),
      })
      mirrors.push({ origin, ...report })
    }
    return { ...own, ok: own.ok && mirrors.every((m) => m.ok), mirrors }
  } finally {
    await db.close()
  }
}

/** The receipt key of the origin's kept descriptor (undefined when the mirror has none yet). */
async function keptReceiptVerifier (signed: Uint8Array | undefined, keysFor: Parameters<typeof openDescriptor>[1]): Promise<Verifier | undefined> {
  if (signed === undefined) return undefined
  const receiptKey = openDescriptor(signed, keysFor).receiptKey
  if (receiptKey === undefined) return undefined
  const key = decodeCoseKey(fromBase64Url(receiptKey))
  return nodeSignatures.verifier(key.algorithm, key.publicKey)
}
