/** The mirror bench's entry bytes: 400 bytes (a small signed statement's size), distinct per index. */
import { sha256Digest, u64be, utf8 } from '@scitt/core'

export function benchEntry (i: number): Uint8Array {
  const e = new Uint8Array(400)
  e.set(utf8(`statement ${i} `))
  e.set(sha256Digest(u64be(i)), 368)
  return e
}
