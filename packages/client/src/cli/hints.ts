/**
 * What `scitt verify` tells its user to pass when a check fails or is skipped for want of a key, a
 * checkpoint or an input: one hint per verify code (verify-code.ts), in terms of the CLI's own flags.
 * Codes of a real failure (a bad signature or proof, a quorum not met) have no hint: no flag fixes them.
 */
import type { VerifyCode } from '../verify-code.js'

export const VERIFY_HINTS: Partial<Record<VerifyCode, string>> = {
  NO_ISSUER_KEY: 'pass the issuer\'s public key with --issuer-key KEY, or --allow-did-key for a did:key issuer',
  NO_MATCHING_ISSUER_KEY: 'pass the key the statement\'s kid names with --issuer-key KEY (or --allow-did-key for a did:key issuer)',
  NO_TRUSTED_KEY: 'to check it, pass that node\'s receipt keys with --node-keys FILE (saved by scitt keys --node URL --out FILE)',
  NO_RECEIPT: 'fetch the statement with its receipts: scitt get ID --node URL --statement, or verify a receipt with --statement FILE',
  NO_NODE_KEYS: 'pass the nodes\' receipt keys with --node-keys FILE (saved by scitt keys --node URL --out FILE)',
  NO_CHECKPOINT: 'pass the log\'s cosigned checkpoint at that size with --checkpoint FILE or --proof FILE (scitt get ID --node URL --proof), or a later one with --node URL for a consistency proof',
  NO_CONSISTENCY_PROOF: 'pass --node URL to read a consistency proof from that node\'s tiles',
  NO_PROOF_SUBJECT: 'pass the statement with --statement FILE, or its entry id with --entry ID',
  NO_LOG_KEY: 'pass the witness policy with --policy FILE, or the log\'s key with --log-key VKEY',
  ORIGIN_NOT_IN_POLICY: 'pass a --policy FILE with a log line for this origin',
}
