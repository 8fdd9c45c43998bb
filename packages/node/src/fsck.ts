/**
 * `scitt-node fsck`: re-derives every root of the node's log from its stored entries (the log's fsck)
 * and checks every checkpoint signature and receipt seal with the node's own keys; then the same for
 * each mirrored log the config lists, with the origin's log keys from the trust policy and the receipt
 * keys the node kept from its descriptors (receipt-keys.ts). Read-only unless `repair` (the log's fsck.ts).
 */
import { Level } from 'level'
import { originHash, ed25519NoteVerifier, parseSkey } from '@scitt/core'
import { nodeSignatures } from '@scitt/node-crypto'
import { LEVELDB_OPTIONS, fsck, type FsckReport } from '@scitt/log'
import type { NodeConfig } from './config.js'
import { mirrorLogFiles, ownLogFiles } from './data-dir.js'
import { openDescriptor } from './federation/descriptor.js'
import { loadReceiptKey, loadSkey } from './keys.js'
import { keptReceiptKeys, receiptVerifierOf } from './mirror/receipt-keys.js'
import { LEGACY_KEYS, STORE_KEYS } from './store-layout.js'

export interface NodeFsckReport extends FsckReport {
  /** One report per mirrored log (`ok` above is false when any of them is not). */
  mirrors: Array<FsckReport & { origin: string }>
}

export async function fsckNode (config: NodeConfig, options: { repair?: boolean } = {}): Promise<NodeFsckReport> {
  const { seed } = parseSkey(loadSkey(config.keys.log, config.origin), nodeSignatures)
  const logPublicKey = nodeSignatures.signer('Ed25519', seed).publicKey
  const receipt = loadReceiptKey(config.keys.receipt)
  const db = new Level<Uint8Array, Uint8Array>(config.dataDir, { ...LEVELDB_OPTIONS, createIfMissing: false })
  await db.open()
  try {
    const own = await fsck(db, ownLogFiles(config.dataDir), {
      origin: config.origin,
      unique: true,
      repair: options.repair === true,
      noteVerifiers: [ed25519NoteVerifier(config.origin, logPublicKey, nodeSignatures)],
      receiptVerifiers: [nodeSignatures.verifier(receipt.coseKey.algorithm, receipt.coseKey.publicKey)],
    })
    const mirrors: NodeFsckReport['mirrors'] = []
    const federation = db.sublevel<string, Uint8Array>('federation', { keyEncoding: 'utf8', valueEncoding: 'view' })
    for (const origin of config.federation?.mirror ?? []) {
      const noteVerifiers = config.federation!.trust.logVerifiers(origin)
      const receiptKeys = await keptReceiptKeys(federation, origin)
      // A data dir not yet opened by a node that keeps receipt keys has only the descriptor (under the earlier key, before the current layout).
      const kept = receiptKeys.length > 0 ? undefined : await federation.get(STORE_KEYS.mirrorDescriptor(origin)) ?? await federation.get(LEGACY_KEYS.mirrorDescriptor(origin))
      const keptKey = kept === undefined ? undefined : openDescriptor(kept, (o) => config.federation!.trust.logVerifiers(o)).receiptKey
      if (keptKey !== undefined) receiptKeys.push(keptKey)
      const report = await fsck(db.sublevel<Uint8Array, Uint8Array>(`m-${originHash(origin)}`, { keyEncoding: 'view', valueEncoding: 'view' }), mirrorLogFiles(config.dataDir, origin), {
        origin,
        unique: false,
        repair: options.repair === true,
        noteVerifiers,
        // No receipt key kept: the mirror has not opened yet, so it holds no seals to check.
        ...(receiptKeys.length === 0 ? {} : { receiptVerifiers: receiptKeys.map(receiptVerifierOf) }),
      })
      mirrors.push({ origin, ...report })
    }
    return { ...own, ok: own.ok && mirrors.every((m) => m.ok), mirrors }
  } finally {
    await db.close()
  }
}
