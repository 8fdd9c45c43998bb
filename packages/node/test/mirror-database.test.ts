/** mirror/database.ts: a mirrored log's writes land exactly where its sublevel reads them. */
import assert from 'node:assert/strict'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Level } from 'level'
import { utf8 } from '@scitt/core'
import { mirrorDatabase } from '../src/mirror/database.js'

const VIEW = { keyEncoding: 'view', valueEncoding: 'view' } as const

describe('the database of a mirrored log (a sublevel written through the node database)', () => {
  it('writes the bytes the sublevel would, in one batch, and reads them back through it', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'scitt-mirror-db-'))
    const root = new Level<Uint8Array, Uint8Array>(dir, VIEW)
    await root.open()
    try {
      const db = mirrorDatabase(root, 'm-abc')
      await db.batch([{ type: 'put', key: utf8('k1'), value: utf8('v1') }, { type: 'put', key: utf8('k2'), value: utf8('v2') }], { ...VIEW, sync: false })
      const stored = await root.iterator(VIEW).all()
      assert.deepEqual(stored.map(([k, v]) => [Buffer.from(k).toString(), Buffer.from(v).toString()]), [['!m-abc!k1', 'v1'], ['!m-abc!k2', 'v2']])
      const sublevel = root.sublevel<Uint8Array, Uint8Array>('m-abc', VIEW)
      assert.deepEqual(Buffer.from((await sublevel.get(utf8('k2'), VIEW))!).toString(), 'v2')
      assert.deepEqual((await db.getMany([utf8('k1'), utf8('nope')], VIEW)).map((v) => v && Buffer.from(v).toString()), ['v1', undefined])
      assert.deepEqual((await db.iterator({ ...VIEW, gte: utf8('k2') }).nextv(10)).map(([k]) => Buffer.from(k).toString()), ['k2'])
    } finally {
      await root.close()
      await rm(dir, { recursive: true, force: true })
    }
  })
})
