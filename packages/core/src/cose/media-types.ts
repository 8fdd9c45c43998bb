/** Media types of the project (RFC 9052 §9, RFC 9943 §10, RFC 9290 §6, RFC 8949 §9.5). */
export const MEDIA_TYPE = {
  cose: 'application/cose',
  scittStatement: 'application/scitt-statement+cose',
  scittReceipt: 'application/scitt-receipt+cose',
  cbor: 'application/cbor',
  problemDetails: 'application/concise-problem-details+cbor',
} as const
