import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import fc from 'fast-check'
import { CID } from 'multiformats/cid'
import {
  bytesToId,
  cidToId,
  InvalidIdError,
  idToBytes,
  idToCid,
  isBlockId,
  parseBlockId,
  parseCidString,
  sha256Hex,
} from '../src/index.ts'

const EMPTY_ID = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855'

describe('block ids', () => {
  it('names the sha256 of the empty string', () => {
    assert.equal(sha256Hex(new Uint8Array()), EMPTY_ID)
    assert.ok(isBlockId(EMPTY_ID))
  })

  it('round-trips hex ↔ CIDv1 raw sha2-256', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 32, maxLength: 32 }), (digest) => {
        const id = bytesToId(digest)
        const cid = idToCid(id)
        assert.equal(cid.version, 1)
        assert.equal(cid.code, 0x55)
        assert.equal(cid.multihash.code, 0x12)
        assert.equal(cidToId(cid), id)
        assert.equal(parseCidString(cid.toString()), id)
        assert.deepEqual(idToBytes(id), digest)
      }),
    )
  })

  it('matches the well-known CID of the empty raw block', () => {
    assert.equal(idToCid(EMPTY_ID).toString(), 'bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku')
  })

  it('refuses anything that is not 64 lowercase hex digits', () => {
    for (const bad of [
      '',
      'abc',
      EMPTY_ID.toUpperCase(),
      `${EMPTY_ID}0`,
      `${EMPTY_ID.slice(0, 63)}g`,
      ` ${EMPTY_ID}`,
    ]) {
      assert.equal(isBlockId(bad), false)
      assert.throws(() => parseBlockId(bad), InvalidIdError)
    }
    assert.throws(() => bytesToId(new Uint8Array(31)), { name: 'InvalidIdError' })
  })

  it('refuses CIDs of another codec or hash', () => {
    const dagPb = CID.createV1(0x70, idToCid(EMPTY_ID).multihash)
    assert.throws(() => cidToId(dagPb), InvalidIdError)
    assert.throws(() => cidToId(CID.parse('QmdfTbBqBPQ7VNxZEYEj14VmRuZBkqFbiwReogJgS1zR1n')), InvalidIdError)
    assert.throws(() => parseCidString('not-a-cid'), InvalidIdError)
  })
})
