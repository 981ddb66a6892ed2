import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { describe, it } from 'node:test'
import { GENERATED_FILE, generate } from '../scripts/generate-pb.ts'

describe('generated protobuf code', () => {
  it('is what protons makes of message.proto today', () => {
    assert.equal(readFileSync(GENERATED_FILE, 'utf8'), generate(), 'run: node packages/protocol/scripts/generate-pb.ts')
  })

  it('uses no namespace or enum, so Node can strip its types', () => {
    const text = readFileSync(GENERATED_FILE, 'utf8')
    assert.doesNotMatch(text, /^\s*export (namespace|enum) /m)
  })
})
