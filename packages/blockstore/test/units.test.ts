import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import fc from 'fast-check'
import { addRequests, requestsAt } from '../src/heat.ts'
import { KeyedMutex } from '../src/keyed-mutex.ts'
import { prefixFloor } from '../src/like-index.ts'
import { orderedParallel } from '../src/ordered-parallel.ts'

describe('heat', () => {
  it('adds requests up, each decayed by its age', () => {
    fc.assert(
      fc.property(
        fc.array(fc.record({ at: fc.integer({ min: 0, max: 1e9 }), count: fc.integer({ min: 1, max: 100 }) }), {
          minLength: 1,
          maxLength: 8,
        }),
        fc.integer({ min: 1e5, max: 1e9 }),
        (events, halfLife) => {
          const sorted = [...events].sort((a, b) => a.at - b.at)
          let heat: number | undefined
          for (const event of sorted) heat = addRequests(heat, event.count, event.at, halfLife)
          const end = sorted[sorted.length - 1]!.at + halfLife
          const expected = sorted.reduce((sum, event) => sum + event.count * 2 ** (-(end - event.at) / halfLife), 0)
          const actual = requestsAt(heat!, end, halfLife)
          assert.ok(Math.abs(actual - expected) <= 1e-9 * expected, `${actual} vs ${expected}`)
        },
      ),
    )
  })
})

describe('KeyedMutex', () => {
  it('runs tasks of one key in order and one at a time, other keys alongside', async () => {
    const mutex = new KeyedMutex()
    const log: string[] = []
    const task = (name: string, ms: number) => async () => {
      log.push(`${name}+`)
      await new Promise((resolve) => setTimeout(resolve, ms))
      log.push(`${name}-`)
      return name
    }
    const failing = mutex.run('a', async () => {
      throw new Error('boom')
    })
    const results = await Promise.all([
      mutex.run('a', task('a1', 20)),
      mutex.run('a', task('a2', 1)),
      mutex.run('b', task('b1', 5)),
      failing.catch((err: Error) => err.message),
    ])
    assert.deepEqual(results, ['a1', 'a2', 'b1', 'boom'])
    assert.ok(log.indexOf('a1-') < log.indexOf('a2+'))
    assert.ok(log.indexOf('b1+') < log.indexOf('a1-'))
    assert.equal(mutex.isBusy('a'), false)
  })
})

describe('orderedParallel', () => {
  it('yields results in source order with bounded concurrency, and throws a failure in its turn', async () => {
    let inFlight = 0
    let peak = 0
    const results: number[] = []
    const source = Array.from({ length: 20 }, (_, index) => index)
    await assert.rejects(async () => {
      for await (const value of orderedParallel(source, 4, async (item) => {
        inFlight++
        peak = Math.max(peak, inFlight)
        await new Promise((resolve) => setTimeout(resolve, (item * 7) % 5))
        inFlight--
        if (item === 13) throw new Error('item 13')
        return item * 2
      })) {
        results.push(value)
      }
    }, /item 13/)
    assert.deepEqual(
      results,
      source.slice(0, 13).map((item) => item * 2),
    )
    assert.ok(peak <= 4)
  })
})

describe('prefixFloor', () => {
  it('keeps the first bits and clears the rest', () => {
    const target = Buffer.from('ff'.repeat(32), 'hex')
    assert.equal(Buffer.from(prefixFloor(target, 0)).toString('hex'), '00'.repeat(32))
    assert.equal(Buffer.from(prefixFloor(target, 11)).toString('hex'), `ffe0${'00'.repeat(30)}`)
    assert.equal(Buffer.from(prefixFloor(target, 256)).toString('hex'), 'ff'.repeat(32))
  })
})
