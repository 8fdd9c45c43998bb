/**
 * `scitt-node fsck`: re-derives every root of the node's log from its stored entries (the log's fsck)
 * and checks every checkpoint signature and receipt seal with the node's own keys. Read-only.
 */
import { Level } from 'level'
import { ed25519NoteVerifier, parseSkey } from '@scitt/core'
import { nodeSignatures } from '@scitt/node-crypto'
import { fsck, type FsckReport, type LogDatabase } from '@scitt/log'
import type { NodeConfig } from './config.js'
import { loadReceiptKey, loadSkey } from './keys.js'

export async function fsckNode (config: NodeConfig): Promise<FsckReport> {
  const { seed } = parseSkey(loadSkey(config.keys.log, config.origin), nodeSignatures)
  const logPublicKey = nodeSignatures.signer('Ed25519', seed).publicKey
  const receipt = loadReceiptKey(config.keys.receipt)
  const db = new Level<Uint8Array, Uint8Array>(config.dataDir, { keyEncoding: 'view', valueEncoding: 'view', createIfMissing: false })
  await db.open()
  try {
    return await fsck(db as unknown as LogDatabase, {
      origin: config.origin,
      unique: true,
      noteVerifier: ed25519NoteVerifier(config.origin, logPublicKey, nodeSignatures),
      receiptVerifier: nodeSignatures.verifier(receipt.coseKey.algorithm, receipt.coseKey.publicKey),
    })
  } finally {
    await db.close()
  }
}
