/**
 * The witness keeps state only for origins its policy knows (C2SP tlog-witness: 404 for an unknown
 * origin): requests naming unknown origins, however large, leave nothing in the store's memory, and
 * no per-origin lock outlives a request.
 */
import assert from 'node:assert/strict'
import { MemoryLevel } from 'memory-level'
import {
  cosignatureSigner, ed25519NoteSigner, formatAddCheckpointRequest, formatNote, noteVerifierFromVkey, sha256Digest, signCheckpoint, utf8,
  type NoteVerifier,
} from '@scitt/core'
import { nodeSignatures } from '@scitt/node-crypto'
import { Witness } from '../src/witness/witness.js'
import { WitnessStore } from '../src/witness/witness-store.js'
import type { FederationDb } from '../src/witness/store.js'
import { loadVector } from '../../../test/fixtures.js'

const v = loadVector('c2sp-notes')
const ORIGIN = 'example.com/scitt-log'
const logVerifier = noteVerifierFromVkey(v.log_vkey)
const witnessSeed = sha256Digest(utf8(v.witness_key_seed_label))
/** A key that no policy names: it signs the flood's checkpoints. */
const floodSigner = ed25519NoteSigner('flood.example/log', sha256Digest(utf8('flood')), nodeSignatures)

function memoryDb (): FederationDb {
  return new MemoryLevel<string, Uint8Array>({ keyEncoding: 'utf8', valueEncoding: 'view' })
}

function witnessOf (store: WitnessStore, keys: (origin: string) => NoteVerifier[] = (o) => (o === ORIGIN ? [logVerifier] : [])): Witness {
  return new Witness({ store, cosigner: cosignatureSigner('witness.example/w1', witnessSeed, () => 1700000000, nodeSignatures), logKeys: keys })
}

/** A well-formed request for origin `origin` (signed, by a key the witness does not trust). */
function requestFor (origin: string): string {
  const note = formatNote(signCheckpoint({ origin, size: 1, rootHash: new Uint8Array(32), extensions: [] }, floodSigner))
  return formatAddCheckpointRequest({ oldSize: 0, proof: [], checkpoint: note })
}

describe('witness: state only for known origins', function () {
  this.timeout(20_000)

  it('100 requests with distinct unknown ~100 KB origins: 404 each, nothing cached, no lock left', async () => {
    const store = new WitnessStore(memoryDb())
    const witness = witnessOf(store)
    const answers = await Promise.all(Array.from({ length: 100 }, async (_, i) => await witness.addCheckpoint(requestFor(`flood.example/${i}/${'o'.repeat(100_000)}`))))
    assert.deepEqual([...new Set(answers.map((a) => a.status))], [404])
    assert.deepEqual(store.footprint, { cached: 0, locks: 0 })
    assert.ok(answers.every((a) => a.body.length < 1024), `a 404 does not echo the origin (longest body ${Math.max(...answers.map((a) => a.body.length))} bytes)`)
  })

  it('refused requests for a known origin cache nothing; a cosigned one caches its state', async () => {
    const store = new WitnessStore(memoryDb())
    const witness = witnessOf(store)
    // Signed by an untrusted key under the known origin: 403, and the absent state is not cached.
    assert.equal((await witness.addCheckpoint(requestFor(ORIGIN))).status, 403)
    assert.equal((await witness.addCheckpoint(`old 4\n\n${v.checkpoint8}`)).status, 409)
    assert.deepEqual(store.footprint, { cached: 0, locks: 0 })
    assert.equal((await witness.addCheckpoint(`old 0\n\n${v.checkpoint4}`)).status, 200)
    assert.deepEqual(store.footprint, { cached: 1, locks: 0 })
    assert.equal((await witness.addCheckpoint(v.add_checkpoint_body)).status, 200)
    assert.equal((await store.get(ORIGIN))?.size, 8)
    assert.deepEqual(store.footprint, { cached: 1, locks: 0 })
  })

  it('the store alone: reading an absent state caches nothing, and a lock ends with its update', async () => {
    const store = new WitnessStore(memoryDb())
    for (let i = 0; i < 50; i++) assert.equal(await store.get(`absent/${i}`), undefined)
    assert.deepEqual(store.footprint, { cached: 0, locks: 0 })
    const results = await Promise.all([1, 2, 3].map(async (n) => await store.update('absent/x', () => ({ result: n }))))
    assert.deepEqual(results, [1, 2, 3])
    assert.deepEqual(store.footprint, { cached: 0, locks: 0 })
  })
})
