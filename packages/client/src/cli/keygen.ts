/** `scitt keygen`: a new issuer key, written as a private JWK (0600); prints the public key. */
import { nodeSignatures } from '@scitt/node-crypto'
import { describeKey, secretKeyJwk, signerFromJwk } from '../keys.js'
import { EXIT, UsageError, printJson, required, writeSecretFile, type Command } from './common.js'

export const keygen: Command = {
  name: 'keygen',
  summary: 'create an issuer key',
  help: `usage: scitt keygen --out FILE [--alg Ed25519|ES256] [--json]

Creates a new issuer signing key and writes it to FILE as a private JWK, readable only by you (0600);
an existing FILE is never overwritten. Prints the public key: its kid (the RFC 9679 thumbprint that
signed statements carry), the public COSE_Key (base64url), the JWK and the did:key, which you can use
as --iss for registries that accept did:key issuers, or give to a registry operator.

options:
  --out FILE        where to write the secret key (required)
  --alg ALG         Ed25519 (default) or ES256
  --json            print the public key as JSON

example:
  scitt keygen --out issuer.jwk`,
  options: { out: { type: 'string' }, alg: { type: 'string' } },
  positionals: [0, 0],
  async run (values) {
    const out = required(values, 'out', 'keygen')
    const alg = (values.alg ?? 'Ed25519') as string
    if (alg !== 'Ed25519' && alg !== 'ES256') throw new UsageError(`--alg must be Ed25519 or ES256, got ${JSON.stringify(alg)}`)
    const jwk = secretKeyJwk(alg, nodeSignatures.generateSecretKey(alg), nodeSignatures)
    writeSecretFile(out, `${JSON.stringify(jwk)}\n`)
    const { key } = signerFromJwk(jwk, nodeSignatures)
    const described = { file: out, ...describeKey(key) }
    if (values.json === true) printJson(described)
    else {
      process.stdout.write(`wrote ${alg} secret key to ${out} (mode 0600)\n`)
      process.stdout.write(`kid        ${described.kid}\n`)
      if (described.didKey !== undefined) process.stdout.write(`did:key    ${described.didKey}\n`)
      process.stdout.write(`COSE_Key   ${described.coseKey}\n`)
      process.stdout.write(`JWK        ${JSON.stringify(described.jwk)}\n`)
    }
    return EXIT.ok
  },
}
