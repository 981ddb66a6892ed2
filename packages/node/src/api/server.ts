import type { AddressInfo } from 'node:net'
import { serve } from '@hono/node-server'
import { MAX_BLOCK_SIZE, parseBlockId } from '@libernet/core'
import { logger } from '@libp2p/logger'
import { type Context, Hono } from 'hono'
import { bodyLimit } from 'hono/body-limit'
import { HTTPException } from 'hono/http-exception'
import { InvalidArgumentError } from '../errors.ts'
import type { LibernetNode } from '../host/node.ts'
import { errorBody, statusOf } from './errors.ts'
import { API_PREFIX } from './paths.ts'

const log = logger('libernet:api')

export interface ApiServer {
  url: string
  close(): Promise<void>
}

/**
 * The node's loopback API, what the CLI uses while `libernet start` runs on
 * the same data directory: blocks (local, else fetched from the network),
 * pins (which replicate), status, peers, providers. It listens on 127.0.0.1
 * only and wants the token from the `api` file on every request, so neither
 * another user nor a web page (DNS rebinding) can drive it.
 */
export async function startApiServer(node: LibernetNode, token: string): Promise<ApiServer> {
  const app = new Hono()
  app.use('*', async (c, next) => {
    if (c.req.header('authorization') !== `Bearer ${token}`) return c.json(apiError('Unauthorized', 'bad token'), 401)
    await next()
  })
  app.onError((err, c) => {
    if (err instanceof HTTPException) return err.getResponse()
    const status = statusOf(err)
    if (status === 500) log.error('%s %s failed: %s', c.req.method, c.req.path, err.stack ?? err.message)
    return c.json(errorBody(err), status)
  })

  const api = new Hono()
  api.get('/id', (c) => c.json({ peerId: node.peerId, addresses: node.addresses(), gateway: node.gatewayUrl ?? null }))
  api.get('/status', async (c) => c.json(await node.status()))
  api.get('/peers', (c) => c.json({ peers: node.peerStatuses() }))

  api.on('HEAD', '/blocks/:id', async (c) => {
    const held = await node.store.has(parseBlockId(c.req.param('id')))
    return c.body(null, held ? 200 : 404)
  })
  api.get('/blocks/:id', async (c) => {
    const id = parseBlockId(c.req.param('id'))
    const verify = c.req.query('verify') !== '0'
    const bytes = await node.store.get(id, { verify, signal: c.req.raw.signal })
    if (bytes === undefined) return c.json(apiError('MissingBlocksError', `no peer supplied block ${id}`, [id]), 504)
    return c.body(bytes as Uint8Array<ArrayBuffer>, 200, { 'content-type': 'application/octet-stream' })
  })
  api.put('/blocks/:id', bodyLimit({ maxSize: MAX_BLOCK_SIZE + 64 }), async (c) => {
    const id = parseBlockId(c.req.param('id'))
    const bytes = new Uint8Array(await c.req.arrayBuffer())
    return c.json({ added: await node.store.put(id, bytes) })
  })

  api.get('/pins', (c) => c.json({ pins: node.blockstore.pins().map(({ owner, url }) => ({ owner, url })) }))
  api.post('/pin', async (c) => {
    const { url, owner } = await pinRequest(c)
    await node.store.pin(url, owner)
    return c.json({ pinned: url })
  })
  api.post('/unpin', async (c) => {
    const { url, owner } = await pinRequest(c)
    await node.store.unpin(url, owner)
    return c.json({ unpinned: url })
  })

  api.post('/verify', async (c) => {
    const report = await node.blockstore.verify({ signal: c.req.raw.signal })
    return c.json({ checked: report.checked, corrupt: report.corrupt })
  })
  api.get('/providers/:id', async (c) => {
    const id = parseBlockId(c.req.param('id'))
    const timeout = boundedNumber(c.req.query('timeout'), 10_000, 120_000)
    const signal = AbortSignal.any([c.req.raw.signal, AbortSignal.timeout(timeout)])
    return c.json({ providers: await node.providers(id, { signal }) })
  })
  api.get('/like/:id', async (c) => {
    const id = parseBlockId(c.req.param('id'))
    const limit = boundedNumber(c.req.query('limit'), 100, 10_000)
    const minScore = boundedNumber(c.req.query('minScore'), 0, 256)
    return c.json({ matches: await node.like(id, { limit, minScore }) })
  })
  app.route(API_PREFIX, api)

  const { promise, resolve, reject } = Promise.withResolvers<AddressInfo>()
  const server = serve({ fetch: app.fetch, hostname: '127.0.0.1', port: 0 }, resolve)
  server.once('error', reject)
  const address = await promise
  return {
    url: `http://127.0.0.1:${address.port}`,
    close: () =>
      new Promise<void>((done) => {
        server.close(() => done())
        if ('closeAllConnections' in server) server.closeAllConnections()
      }),
  }
}

function apiError(name: string, message: string, ids?: string[]) {
  return { error: { name, message, ...(ids !== undefined ? { ids } : {}) } }
}

async function pinRequest(c: Context): Promise<{ url: string; owner: string }> {
  const body = (await c.req.json().catch(() => ({}))) as { url?: unknown; owner?: unknown }
  if (typeof body.url !== 'string' || typeof body.owner !== 'string') {
    throw new InvalidArgumentError('a pin request is {"url": string, "owner": string}')
  }
  return { url: body.url, owner: body.owner }
}

function boundedNumber(text: string | undefined, fallback: number, max: number): number {
  const value = Number(text)
  return text === undefined || !Number.isFinite(value) || value < 0 ? fallback : Math.min(value, max)
}
