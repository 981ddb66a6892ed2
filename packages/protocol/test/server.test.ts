import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { describe, it } from 'node:test'
import type { BlockId } from '@libernet/core'
import { BlockTooLargeError, sha256Hex } from '@libernet/core'
import type { PeerId, Stream } from '@libp2p/interface'
import { streamPair } from '@libp2p/utils'
import fc from 'fast-check'
import { encodeFrame, encodeVarint, type Message } from '../src/codec.ts'
import { MAX_FRAME_SIZE, MAX_LIKE_RESULTS } from '../src/constants.ts'
import { LimitExceededError, QuotaExceededError } from '../src/errors.ts'
import { PeerScores } from '../src/scores.ts'
import { BlockServer, type BlockServerInit } from '../src/server.ts'
import type { BlockSource } from '../src/store.ts'
import { MemorySource } from './fixtures/memory-source.ts'
import { closed, eventually, MessageReader, randomPeerId, send } from './fixtures/pairs.ts'

interface Client {
  stream: Stream
  serverSide: Stream
  reader: MessageReader
}

async function open(server: BlockServer, remotePeer: PeerId): Promise<Client> {
  const [stream, serverSide] = await streamPair({ delay: 0 })
  server.handleStream(serverSide, { remotePeer })
  return { stream, serverSide, reader: new MessageReader(stream) }
}

function answered(id: BlockId) {
  return (messages: Message[]) =>
    messages.some(
      (message) =>
        ((message.type === 'block' || message.type === 'stored') && message.id === id) ||
        ((message.type === 'have' || message.type === 'dont-have') && message.ids.includes(id)),
    )
}

function fixture(init: Partial<BlockServerInit> = {}) {
  const source = new MemorySource({ quota: 10_000 })
  const ids = Array.from({ length: 5 }, () => source.add(randomBytes(1000)))
  const server = new BlockServer({ source, ...init })
  return { source, ids, server }
}

const absent = 'f'.repeat(64)

describe('BlockServer', () => {
  it('answers wants with BLOCK, DONT_HAVE and, for have-only wants, HAVE; and counts requests', async () => {
    const { source, ids, server } = fixture()
    const client = await open(server, await randomPeerId())
    const [first, second] = ids as [BlockId, BlockId]
    send(
      client.stream,
      { type: 'want', ids: [first, absent], haveOnly: false, cancel: false },
      { type: 'want', ids: [second, absent], haveOnly: true, cancel: false },
    )
    const answers = (list: Message[]) =>
      list.reduce((sum, message) => sum + (message.type === 'block' ? 1 : 'ids' in message ? message.ids.length : 0), 0)
    const messages = await client.reader.until((list) => answers(list) === 4)
    const block = messages.find((message) => message.type === 'block')
    assert.deepEqual(block, { type: 'block', id: first, data: source.blocks.get(first) })
    assert.deepEqual(
      messages.filter((message) => message.type === 'have').flatMap((message) => message.ids),
      [second],
    )
    assert.deepEqual(
      messages.filter((message) => message.type === 'dont-have').flatMap((message) => message.ids),
      [absent, absent],
    )
    assert.equal(source.requests.get(first), 1)
    assert.equal(source.requests.has(second), false, 'have-only wants are not block requests')
    assert.equal(server.stats.blocksServed, 1)
    client.stream.abort(new Error('done'))
  })

  it('accepts a verified STORE, refuses one over quota with the reason, and one that does not verify', async () => {
    const { source, server } = fixture()
    const scores = server.scores
    const peer = await randomPeerId()
    const client = await open(server, peer)
    const fits = randomBytes(3000)
    const tooBig = randomBytes(6000)
    const forged = randomBytes(100)
    const fitsId = sha256Hex(fits)
    const tooBigId = sha256Hex(tooBig)
    const forgedId = sha256Hex(randomBytes(100))
    send(
      client.stream,
      { type: 'store', id: fitsId, data: fits },
      { type: 'store', id: tooBigId, data: tooBig },
      { type: 'store', id: forgedId, data: forged },
    )
    const messages = await client.reader.until((list) => list.length === 3)
    const outcome = (id: BlockId) =>
      messages.find((message) => message.type === 'stored' && message.id === id)?.type === 'stored'
        ? (messages.find((message) => message.type === 'stored' && message.id === id) as { outcome: unknown }).outcome
        : undefined
    assert.deepEqual(outcome(fitsId), { accepted: true })
    assert.deepEqual(source.blocks.get(fitsId), new Uint8Array(fits))
    const quota = outcome(tooBigId) as { accepted: false; reason: string; detail: string }
    assert.equal(quota.accepted, false)
    assert.equal(quota.reason, 'quota')
    assert.match(quota.detail, /quota/)
    assert.equal(source.blocks.has(tooBigId), false)
    assert.deepEqual((outcome(forgedId) as { reason: string }).reason, 'invalid')
    assert.equal(source.blocks.has(forgedId), false)
    assert.equal(scores.faults(peer), 1, 'a forged offer counts against the peer')
    client.stream.abort(new Error('done'))
  })

  it('maps store errors to refusal reasons, recognising quota errors of other stores by name', async () => {
    const failures: Record<string, Error> = {
      quota: new QuotaExceededError('no room'),
      'quota-by-name': Object.assign(new Error('store full'), { name: 'QuotaExceededError' }),
      'too-large': new BlockTooLargeError('too big'),
      error: new Error('disk on fire'),
    }
    const offers = Object.keys(failures).map((label) => {
      const data = new TextEncoder().encode(label)
      return { label, id: sha256Hex(data), data }
    })
    const source: BlockSource = {
      has: () => false,
      get: () => undefined,
      put: (id) => {
        const offer = offers.find((candidate) => candidate.id === id)
        throw failures[offer?.label ?? 'error']
      },
    }
    const server = new BlockServer({ source })
    const client = await open(server, await randomPeerId())
    send(client.stream, ...offers.map(({ id, data }): Message => ({ type: 'store', id, data })))
    const answers = await client.reader.until((list) => list.length === offers.length)
    const reasons = Object.fromEntries(
      answers.map((answer) => {
        assert.ok(answer.type === 'stored' && !answer.outcome.accepted)
        return [offers.find((offer) => offer.id === answer.id)?.label, answer.outcome.reason]
      }),
    )
    assert.deepEqual(reasons, { quota: 'quota', 'quota-by-name': 'quota', 'too-large': 'too-large', error: 'error' })
    client.stream.abort(new Error('done'))
  })

  it('refuses every STORE with "unavailable" when the source takes no blocks', async () => {
    const source: BlockSource = { has: () => false, get: () => undefined }
    const server = new BlockServer({ source })
    const client = await open(server, await randomPeerId())
    const bytes = randomBytes(10)
    send(client.stream, { type: 'store', id: sha256Hex(bytes), data: bytes })
    const [answer] = await client.reader.until((list) => list.length === 1)
    assert.equal(answer?.type === 'stored' && !answer.outcome.accepted && answer.outcome.reason, 'unavailable')
    client.stream.abort(new Error('done'))
  })

  it('answers LIKE queries best first, capped at the asked count and at 100', async () => {
    const source = new MemorySource()
    for (let at = 0; at < 150; at++) source.add(randomBytes(16))
    const server = new BlockServer({ source })
    const client = await open(server, await randomPeerId())
    const target = [...source.blocks.keys()][0] as BlockId
    send(
      client.stream,
      { type: 'like', target, minScore: 0, maxResults: 5 },
      { type: 'like', target, minScore: 0, maxResults: 1000 },
    )
    const messages = await client.reader.until((list) => list.length === 2)
    const [few, many] = messages as Array<Extract<Message, { type: 'liked' }>>
    assert.equal(few?.matches.length, 5)
    assert.deepEqual(few?.matches[0], { id: target, size: 16 })
    assert.equal(many?.matches.length, MAX_LIKE_RESULTS)
    client.stream.abort(new Error('done'))
  })

  it('drops cancelled wants that have not started', async () => {
    const { gate, ids, source, calls } = gatedSource(20, 100)
    const server = new BlockServer({ source, limits: { serverConcurrency: 1 } })
    const client = await open(server, await randomPeerId())
    send(client.stream, { type: 'want', ids, haveOnly: false, cancel: false })
    await eventually(() => calls.count === 1)
    send(client.stream, { type: 'want', ids: ids.slice(1), haveOnly: false, cancel: true })
    await eventually(() => server.stats.streamsAccepted === 1 && client.serverSide.readBufferLength === 0)
    await new Promise((resolve) => setTimeout(resolve, 20))
    gate.resolve()
    await client.reader.until(answered(ids[0] as BlockId))
    await new Promise((resolve) => setTimeout(resolve, 50))
    assert.equal(client.reader.messages.length, 1, 'only the want already being served is answered')
    client.stream.abort(new Error('done'))
  })

  it('pauses a peer that has too many requests outstanding, and serves them all in the end', async () => {
    const { gate, ids, source, calls } = gatedSource(2000, 8)
    const server = new BlockServer({ source, limits: { maxWantsPerPeer: 64, serverConcurrency: 4 } })
    const client = await open(server, await randomPeerId())
    for (let at = 0; at < ids.length; at += 100) {
      send(client.stream, { type: 'want', ids: ids.slice(at, at + 100), haveOnly: false, cancel: false })
    }
    await eventually(() => client.serverSide.readStatus === 'paused' && calls.count === 4)
    await new Promise((resolve) => setTimeout(resolve, 50))
    assert.equal(calls.count, 4, 'only serverConcurrency requests run at once')
    gate.resolve()
    await client.reader.until((list) => list.length === ids.length, 10_000)
    assert.equal(server.stats.blocksServed, ids.length)
    client.stream.abort(new Error('done'))
  })

  it('pauses a peer whose queued STORE offers exceed the byte budget', async () => {
    const gate = Promise.withResolvers<void>()
    const inner = new MemorySource()
    let puts = 0
    const source: BlockSource = {
      has: (id) => inner.has(id),
      get: (id) => inner.get(id),
      put: async (id, bytes) => {
        puts++
        await gate.promise
        await inner.put(id, bytes)
      },
    }
    const server = new BlockServer({ source, limits: { maxStoreBytesPerPeer: 100_000, serverConcurrency: 1 } })
    const client = await open(server, await randomPeerId())
    const offers = Array.from({ length: 10 }, () => randomBytes(50_000))
    send(client.stream, ...offers.map((data): Message => ({ type: 'store', id: sha256Hex(data), data })))
    await eventually(() => client.serverSide.readStatus === 'paused' && puts === 1)
    await new Promise((resolve) => setTimeout(resolve, 50))
    assert.equal(puts, 1)
    gate.resolve()
    const answers = await client.reader.until((list) => list.length === offers.length)
    assert.ok(answers.every((message) => message.type === 'stored' && message.outcome.accepted))
    assert.equal(inner.blocks.size, offers.length)
    client.stream.abort(new Error('done'))
  })

  it('answers a like query with an empty list, and keeps the stream, when the source fails', async () => {
    const source: BlockSource = {
      has: () => false,
      get: () => undefined,
      like: () => {
        throw new Error('index unavailable')
      },
    }
    const server = new BlockServer({ source })
    const client = await open(server, await randomPeerId())
    send(client.stream, { type: 'like', target: absent, minScore: 0, maxResults: 10 })
    const [answer] = await client.reader.until((list) => list.length === 1)
    assert.deepEqual(answer, { type: 'liked', target: absent, matches: [] })
    send(client.stream, { type: 'want', ids: [absent], haveOnly: false, cancel: false })
    await client.reader.until((list) => list.length === 2)
    client.stream.abort(new Error('done'))
  })

  it('refuses streams beyond the stream limit and from shunned peers', async () => {
    const scores = new PeerScores({ faultThreshold: 1 })
    const { server } = fixture({ scores, limits: { maxInboundStreams: 2 } })
    const peer = await randomPeerId()
    const first = await open(server, peer)
    const second = await open(server, peer)
    const [third, thirdServerSide] = await streamPair({ delay: 0 })
    let refusal: Error | undefined
    thirdServerSide.addEventListener('close', (event) => {
      refusal = event.error
    })
    server.handleStream(thirdServerSide, { remotePeer: peer })
    await closed(third)
    assert.equal(thirdServerSide.status, 'aborted')
    assert.ok(refusal instanceof LimitExceededError)
    assert.equal(refusal.name, 'LimitExceededError')
    assert.equal(server.stats.streamsRefused, 1)
    assert.equal(server.stats.activeStreams, 2)
    const shunned = await randomPeerId()
    scores.penalize(shunned, 'bad-block')
    second.stream.abort(new Error('make room'))
    await closed(second.serverSide)
    const refused = await open(server, shunned)
    await closed(refused.stream)
    assert.equal(server.stats.streamsRefused, 2)
    first.stream.abort(new Error('done'))
  })

  it('closes a stream left idle', async () => {
    const { server } = fixture({ limits: { streamIdleTimeout: 50 } })
    const client = await open(server, await randomPeerId())
    await closed(client.serverSide, 2_000)
    assert.equal(server.stats.activeStreams, 0)
  })

  it('paces the bytes it sends one peer', async () => {
    const source = new MemorySource()
    const ids = Array.from({ length: 6 }, () => source.add(randomBytes(100_000)))
    const server = new BlockServer({ source, limits: { maxBytesPerSecondPerPeer: 200_000 } })
    const client = await open(server, await randomPeerId())
    const started = performance.now()
    send(client.stream, { type: 'want', ids, haveOnly: false, cancel: false })
    await client.reader.until((list) => list.length === ids.length, 10_000)
    const elapsed = performance.now() - started
    // 600 kB at 200 kB/s with one second of burst: about two seconds.
    assert.ok(elapsed > 1_500 && elapsed < 6_000, `took ${elapsed} ms`)
    client.stream.abort(new Error('done'))
  })

  it('ends only the offending stream on a frame a client must not send, and counts it against the peer', async () => {
    const { ids, server } = fixture()
    const peer = await randomPeerId()
    const good = await open(server, peer)
    const bad = await open(server, peer)
    send(bad.stream, { type: 'have', ids })
    await closed(bad.serverSide)
    assert.equal(server.scores.faults(peer), 1)
    send(good.stream, { type: 'want', ids, haveOnly: false, cancel: false })
    await good.reader.until((list) => list.length === ids.length)
    good.stream.abort(new Error('done'))
  })

  it('ends a stream that stops inside a frame', async () => {
    const { ids, server } = fixture()
    const client = await open(server, await randomPeerId())
    const frame = encodeFrame({ type: 'want', ids, haveOnly: false, cancel: false }).subarray()
    client.stream.send(frame.subarray(0, frame.byteLength - 3))
    await client.stream.close()
    await closed(client.serverSide)
    assert.equal(client.serverSide.status, 'aborted')
    assert.equal(server.stats.streamsFailed, 1)
  })

  it('closes cleanly once a client that closed its end has all its answers', async () => {
    const { ids, server } = fixture()
    const client = await open(server, await randomPeerId())
    send(client.stream, { type: 'want', ids, haveOnly: false, cancel: false })
    await client.stream.close()
    await client.reader.until((list) => list.length === ids.length)
    await closed(client.serverSide)
    assert.equal(client.serverSide.status, 'closed')
    assert.equal(server.stats.streamsFailed, 0)
  })

  it('survives 1,000 random, truncated and oversized frames, and still serves', async () => {
    const { ids, server } = fixture({ scores: new PeerScores({ faultThreshold: Number.POSITIVE_INFINITY }) })
    const peer = await randomPeerId()
    const valid = encodeFrame({ type: 'want', ids, haveOnly: false, cancel: false }).subarray()
    const garbage = fc.oneof(
      fc.uint8Array({ minLength: 1, maxLength: 200 }).map((body) => [...encodeVarint(body.byteLength), ...body]),
      fc.uint8Array({ minLength: 1, maxLength: 64 }),
      fc.integer({ min: 1, max: valid.byteLength - 1 }).map((cut) => [...valid.subarray(0, cut)]),
      fc.integer({ min: MAX_FRAME_SIZE + 1, max: 2 ** 28 - 1 }).map((length) => [...encodeVarint(length), 1, 2, 3]),
      fc.constant([0xff, 0xff, 0xff, 0xff, 0xff, 0x01]),
    )
    const samples = fc.sample(garbage, { numRuns: 1000, seed: 42 })
    for (let at = 0; at < samples.length; at += 50) {
      await Promise.all(
        samples.slice(at, at + 50).map(async (bytes) => {
          const client = await open(server, peer)
          client.stream.send(Uint8Array.from(bytes as number[]))
          await client.stream.close()
          await closed(client.serverSide)
        }),
      )
    }
    assert.equal(server.stats.streamsAccepted, 1000)
    assert.equal(server.stats.activeStreams, 0)
    assert.ok(server.stats.streamsFailed > 900, `${server.stats.streamsFailed} streams failed`)
    const client = await open(server, await randomPeerId())
    send(client.stream, { type: 'want', ids, haveOnly: false, cancel: false })
    await client.reader.until((list) => list.length === ids.length)
    client.stream.abort(new Error('done'))
  })
})

/** A source of `count` random blocks whose gets all wait for `gate`; `calls.count` says how many began. */
function gatedSource(count: number, size: number) {
  const gate = Promise.withResolvers<void>()
  const inner = new MemorySource()
  const ids = Array.from({ length: count }, () => inner.add(randomBytes(size)))
  const calls = { count: 0 }
  const source: BlockSource = {
    has: (id) => inner.has(id),
    get: async (id) => {
      calls.count++
      await gate.promise
      return inner.get(id)
    },
  }
  return { gate, ids, source, calls }
}
