import type { HttpBindings } from '@hono/node-server'
import { type BlockId, blockUrl, LEGACY_MAX_BLOCK_SIZE, parseUrl } from '@libernet/core'
import { Hono, type MiddlewareHandler } from 'hono'
import type { ContentContext } from '../content.ts'
import type { EngineStore } from '../store.ts'
import { isLoopbackAddress, isLoopbackHost } from './access.ts'
import type { GatewayBackend } from './backend.ts'
import { BundleCache, serveContent } from './content-routes.ts'
import { describeError, HttpError } from './http-errors.ts'
import type { GatewayMetrics, RouteKind } from './metrics.ts'
import { renderStatusPage } from './status-page.ts'

/** Stores a block offered by PUT; resolves true when it was new. Must verify it against `id`. */
export type PutBlock = (id: BlockId, bytes: Uint8Array, options: { signal?: AbortSignal }) => Promise<boolean>

export interface GatewayAppOptions {
  backend: GatewayBackend
  metrics: GatewayMetrics
  /** The host the server is bound to: also accepted as a loopback Host header. */
  boundHost: string
  /** Let clients on other machines use PUT, the status page and /metrics. */
  allowRemotePrivate: boolean
  putBlock: PutBlock
  /** Time allowed to resolve a URL and obtain its first bytes. */
  timeoutMs: number
  /** No network behind the store: a missing block is a 404, not a 504. */
  offline?: boolean
  /** The gateway's own base URL, for the status page. */
  gatewayUrl: () => string | undefined
  /** Faults of the gateway itself (answered 500). */
  onError: (err: unknown) => void
}

export type GatewayEnv = {
  /** Absent when the app is driven without a socket (`app.request`): such a client is not on loopback. */
  Bindings: Partial<HttpBindings>
  Variables: { kind: RouteKind }
}

const REASONS: Record<number, string> = {
  400: 'Bad Request',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  411: 'Length Required',
  413: 'Content Too Large',
  500: 'Internal Server Error',
  504: 'Gateway Timeout',
  507: 'Insufficient Storage',
}

/** A short plain-text error answer; never cached (a block missing now may be found later). */
export function errorResponse(status: number, message: string, extra: Record<string, string> = {}): Response {
  const shown = message.length > 400 ? `${message.slice(0, 397)}...` : message
  const body = `${status} ${REASONS[status] ?? 'Error'}: ${shown}\n`
  return new Response(body, {
    status,
    headers: {
      'content-type': 'text/plain; charset=utf-8',
      'content-length': String(Buffer.byteLength(body)),
      'cache-control': 'no-store',
      'x-content-type-options': 'nosniff',
      ...extra,
    },
  })
}

/**
 * The gateway's routes (DESIGN §6). Private endpoints (status, metrics, PUT)
 * answer only to loopback clients that address the gateway by a loopback
 * name, unless `allowRemotePrivate`. Everything else is content: any path
 * outside the URL grammar is a 400.
 */
export function createGatewayApp(options: GatewayAppOptions): Hono<GatewayEnv> {
  const { backend, metrics } = options
  const app = new Hono<GatewayEnv>()
  const bundles = new BundleCache()
  const store = countingStore(backend.store, metrics)

  app.use('*', async (c, next) => {
    const started = performance.now()
    c.set('kind', 'other')
    await next()
    const kind = c.get('kind')
    const outgoing = c.env?.outgoing
    const status = c.res.status
    const done = (): void => metrics.observeRequest(kind, status, (performance.now() - started) / 1000)
    if (outgoing !== undefined && !outgoing.writableFinished && !outgoing.destroyed) outgoing.once('close', done)
    else done()
  })

  const privateOnly: MiddlewareHandler<GatewayEnv> = async (c, next) => {
    if (!options.allowRemotePrivate) {
      if (!isLoopbackAddress(c.env?.incoming?.socket?.remoteAddress)) {
        return errorResponse(403, 'this endpoint answers only to clients on the same machine')
      }
      if (!isLoopbackHost(c.req.header('host'), options.boundHost)) {
        return errorResponse(403, 'this endpoint answers only when addressed as localhost or by a loopback address')
      }
    }
    await next()
  }

  app.get('/', privateOnly, async (c) => {
    c.set('kind', 'status')
    const status = { ...(await backend.status()) }
    status.gateway ??= options.gatewayUrl()
    const headers = { 'cache-control': 'no-store', vary: 'Accept', 'x-content-type-options': 'nosniff' }
    if (wantsJson(c.req.header('accept'))) return c.json(status, 200, headers)
    return c.html(renderStatusPage(status), 200, headers)
  })

  app.get('/metrics', privateOnly, async (c) => {
    c.set('kind', 'metrics')
    const text = await metrics.render(await backend.status())
    return c.body(text, 200, { 'content-type': metrics.contentType, 'cache-control': 'no-store' })
  })

  app.put('*', privateOnly, async (c) => {
    c.set('kind', 'put')
    const url = parseUrl(rawPath(c.env?.incoming?.url, c.req.url))
    if (url.kind !== 'block')
      throw new HttpError(400, 'PUT stores a block at /sha256/{id}; nothing else can be written')
    const declared = c.req.header('content-length')
    if (declared !== undefined && Number(declared) > LEGACY_MAX_BLOCK_SIZE) {
      throw new HttpError(413, `a block has at most ${LEGACY_MAX_BLOCK_SIZE} bytes, not ${declared}`)
    }
    const bytes = await readBody(c.req.raw, LEGACY_MAX_BLOCK_SIZE)
    metrics.addBytesReceived(bytes.byteLength)
    const added = await options.putBlock(url.id, bytes, { signal: c.req.raw.signal })
    const location = blockUrl(url.id)
    return c.json({ url: location, size: bytes.byteLength, new: added }, added ? 201 : 200, {
      location,
      'cache-control': 'no-store',
    })
  })

  app.get('*', async (c) => {
    const deadline = new Deadline(c.req.raw.signal, options.timeoutMs)
    try {
      const content: ContentContext = { store, pool: backend.pool, signal: deadline.signal }
      const outgoing = c.env?.outgoing
      return await serveContent({
        url: parseUrl(rawPath(c.env?.incoming?.url, c.req.url)),
        json: wantsJson(c.req.header('accept')),
        head: c.req.raw.method === 'HEAD',
        requestHeaders: c.req.raw.headers,
        content,
        backend,
        bundles,
        setKind: (kind) => c.set('kind', kind),
        onFirstBytes: () => deadline.settle(),
        onBytes: (bytes) => metrics.addBytesSent(bytes),
        abortConnection: outgoing === undefined ? undefined : () => outgoing.destroy(),
      })
    } catch (err) {
      throw deadline.timedOut ? new DeadlineError(err) : err
    } finally {
      deadline.settle()
    }
  })

  app.all('*', () => errorResponse(405, 'the gateway answers GET, HEAD and PUT', { allow: 'GET, HEAD, PUT' }))

  app.onError((err, c) => {
    // The client went away: nobody reads the answer, and nothing went wrong.
    if (c.req.raw.signal.aborted) return errorResponse(400, 'request cancelled by the client')
    const timedOut = err instanceof DeadlineError
    const cause = timedOut ? err.cause : err
    const known = describeError(cause, timedOut, options.offline === true)
    if (known !== undefined) return errorResponse(known.status, known.message)
    options.onError(cause)
    return errorResponse(500, 'the gateway failed to answer this request')
  })

  return app
}

/** Prefers JSON when asked for it and not for HTML (a browser asks for HTML). */
function wantsJson(accept: string | undefined): boolean {
  return accept?.includes('application/json') === true && !accept.includes('text/html')
}

/**
 * The path exactly as the client sent it (the request target, not a URL
 * object that resolved `.` and `..` segments), without its query: queries
 * are not part of a Libernet URL, and the gateway ignores them.
 */
function rawPath(target: string | undefined, url: string): string {
  const text = target ?? url.replace(/^[a-z]+:\/\/[^/]*/i, '')
  const query = text.indexOf('?')
  return query === -1 ? text : text.slice(0, query)
}

async function readBody(request: Request, limit: number): Promise<Uint8Array> {
  if (request.body === null) return new Uint8Array(0)
  const chunks: Uint8Array[] = []
  let total = 0
  const reader = request.body.getReader()
  for (;;) {
    const { done, value } = await reader.read()
    if (done) break
    total += value.byteLength
    if (total > limit) {
      await reader.cancel().catch(() => {})
      throw new HttpError(413, `a block has at most ${limit} bytes`)
    }
    chunks.push(value)
  }
  return Buffer.concat(chunks, total)
}

/** The gateway's reads, counted for /metrics. */
function countingStore(store: EngineStore, metrics: GatewayMetrics): EngineStore {
  return {
    has: (id, options) => store.has(id, options),
    async get(id, options) {
      const bytes = await store.get(id, options)
      if (bytes !== undefined) metrics.addBlockRead(bytes.byteLength)
      return bytes
    },
    localFile(id) {
      const file = store.localFile?.(id)
      if (file !== undefined) metrics.addBlockRead(file.size)
      return file
    },
    put: (id, bytes, options) => store.put(id, bytes, options),
    pin: (url, owner) => store.pin(url, owner),
    close: () => store.close(),
  }
}

/** Cancels a request's work when its client goes away, or when its first bytes take longer than allowed. */
class Deadline {
  readonly signal: AbortSignal
  timedOut = false
  readonly #controller = new AbortController()
  readonly #timer: NodeJS.Timeout

  constructor(request: AbortSignal, ms: number) {
    this.signal = this.#controller.signal
    const onAbort = (): void => this.#controller.abort(request.reason)
    if (request.aborted) onAbort()
    else request.addEventListener('abort', onAbort, { once: true })
    this.#timer = setTimeout(() => {
      this.timedOut = true
      this.#controller.abort(new DOMException('no first bytes in time', 'TimeoutError'))
    }, ms)
  }

  /** The first bytes are here: from now on only the client going away cancels the work. */
  settle(): void {
    clearTimeout(this.#timer)
  }
}

class DeadlineError extends Error {
  constructor(cause: unknown) {
    super('deadline passed', { cause })
    this.name = 'DeadlineError'
  }
}
