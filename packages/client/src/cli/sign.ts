/** `scitt sign`: a Signed Statement (COSE_Sign1), plain or as a hash envelope (RFC 9995). */
import { createHash } from 'node:crypto'
import { createReadStream } from 'node:fs'
import { didKeyFromPublicKey } from '@scitt/core'
import { signHashEnvelope, signStatement } from '../statement.js'
import { EXIT, UsageError, loadSecretKey, readInput, required, writeOutput, type Command } from './common.js'

async function sha256File (file: string): Promise<Uint8Array> {
  const hash = createHash('sha256')
  try {
    for await (const chunk of file === '-' ? process.stdin : createReadStream(file)) hash.update(chunk as Buffer)
  } catch (err) {
    throw new UsageError(`cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`)
  }
  return new Uint8Array(hash.digest())
}

export const sign: Command = {
  name: 'sign',
  summary: 'sign a statement about an artifact',
  help: `usage: scitt sign --key FILE --iss ISS --sub SUB --content-type TYPE [--hash-envelope [--location URL]] [--out FILE [--force]] IN

Signs IN as a SCITT Signed Statement (COSE_Sign1 with alg, kid and CWT claims iss and sub) and writes
it to --out or stdout. With --hash-envelope the payload is the SHA-256 of IN (RFC 9995: labels 258,
259 = TYPE, 260 = --location), which is how large artifacts are registered (a statement must stay
under 64 KiB). IN may be - for stdin.

options:
  --key FILE            secret key from scitt keygen (required)
  --iss ISS             issuer; "did:key" means this key's own did:key (required)
  --sub SUB             subject, e.g. the artifact's name (required)
  --content-type TYPE   media type of IN (required)
  --hash-envelope       sign the SHA-256 of IN instead of IN itself
  --location URL        where the artifact can be fetched (hash envelope only)
  --out FILE            write the statement here instead of stdout (an existing file is refused; a
                        symlink always)
  --force               replace an existing --out file

example:
  scitt sign --key issuer.jwk --iss did:key --sub firmware-1.2 --content-type application/octet-stream --hash-envelope fw.bin > fw.cose`,
  options: {
    key: { type: 'string' }, iss: { type: 'string' }, sub: { type: 'string' }, 'content-type': { type: 'string' },
    'hash-envelope': { type: 'boolean' }, location: { type: 'string' }, out: { type: 'string', short: 'o' }, force: { type: 'boolean' },
  },
  positionals: [1, 1],
  async run (values, [input]) {
    const { signer, key } = loadSecretKey(required(values, 'key', 'sign'))
    let iss = required(values, 'iss', 'sign')
    if (iss === 'did:key') iss = didKeyFromPublicKey(key.algorithm, key.publicKey)
    const sub = required(values, 'sub', 'sign')
    const contentType = required(values, 'content-type', 'sign')
    const location = values.location as string | undefined
    const common = { signer, kid: key.kid, iss, sub, contentType }
    let statement: Uint8Array
    if (values['hash-envelope'] === true) {
      statement = signHashEnvelope({ ...common, digest: await sha256File(input!), ...(location === undefined ? {} : { location }) })
    } else {
      if (location !== undefined) throw new UsageError('--location needs --hash-envelope')
      let payload: Uint8Array
      try {
        payload = readInput(input!, 65_000)
      } catch (err) {
        throw new UsageError(`${(err as Error).message}; sign large artifacts with --hash-envelope`)
      }
      statement = signStatement({ ...common, payload })
    }
    if (statement.length > 65_535) throw new UsageError(`the statement is ${statement.length} bytes, over the 65,535-byte entry limit: use --hash-envelope`)
    writeOutput(statement, values.out as string | undefined, true, values.force === true)
    return EXIT.ok
  },
}
