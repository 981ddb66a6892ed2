/**
 * interface-blockstore's own compliance suite, run against LibernetBlockstore.
 * The suite is written for mocha with aegir's chai; node:test provides the
 * same describe/it/beforeEach/afterEach, and 'aegir/chai' is resolved to a
 * small fixture that configures chai the same way.
 */
import { registerHooks } from 'node:module'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, it } from 'node:test'
import { pathToFileURL } from 'node:url'
import { LibernetBlockstore } from '../src/index.ts'
import { makeTempDir } from './helpers.ts'

const chaiShim = pathToFileURL(join(import.meta.dirname, 'fixtures', 'aegir-chai.ts')).href
registerHooks({
  resolve(specifier, context, nextResolve) {
    if (specifier === 'aegir/chai') return { url: chaiShim, shortCircuit: true }
    return nextResolve(specifier, context)
  },
})
Object.assign(globalThis, { describe, it, beforeEach, afterEach })
const { interfaceBlockstoreTests } = await import('interface-blockstore-tests')

const dirs = new Map<LibernetBlockstore, AsyncDisposable>()

describe('interface-blockstore compliance', () => {
  interfaceBlockstoreTests({
    async setup() {
      const dir = await makeTempDir('interface')
      const store = await LibernetBlockstore.open({ path: dir.path })
      dirs.set(store, dir)
      return store
    },
    async teardown(store) {
      await store.close()
      await dirs.get(store)?.[Symbol.asyncDispose]()
      dirs.delete(store)
    },
  })
})
