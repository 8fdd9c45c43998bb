/**
 * COSE header labels used by SCITT: RFC 9052 §3.1 (alg, content type, kid), RFC 9597 (CWT claims),
 * RFC 9596 (typ), RFC 9360 (x5chain, x5t), RFC 9995 §3 (hash envelope), RFC 9942 §2 (receipts).
 */
export const HEADER = {
  alg: 1,
  contentType: 3,
  kid: 4,
  cwtClaims: 15,
  typ: 16,
  x5chain: 33,
  x5t: 34,
  payloadHashAlg: 258,
  preimageContentType: 259,
  payloadLocation: 260,
  receipts: 394,
  vds: 395,
  vdp: 396,
} as const

/** CWT claim keys (RFC 8392 §4) used in header 15. */
export const CWT_CLAIM = { iss: 1, sub: 2 } as const

/** COSE Verifiable Data Structure algorithms (RFC 9942 §8.2.2). */
export const VDS_RFC9162_SHA256 = 1

/** VDS proof labels for RFC9162_SHA256 (RFC 9942 §8.2.3). */
export const VDP = { inclusion: -1, consistency: -2 } as const
