import { createHash } from 'node:crypto'
import { parseRange } from './range.ts'

/** Content the gateway can answer with: a size known up front and a way to read any byte range of it. */
export interface Resource {
  size: number
  contentType: string
  etag: string
  /** Bytes `start` to `end` inclusive, in order. Only called with a non-empty range. */
  read(start: number, end: number): AsyncGenerator<Uint8Array, void, undefined>
  /** Extra headers (Vary, Cache-Control...), over the defaults. */
  headers?: Record<string, string>
}

/** Content never changes under its URL. */
export const IMMUTABLE = 'public, max-age=31536000, immutable'

/**
 * Content from bundles may be anyone's HTML. The sandbox gives such a page an
 * opaque origin: its scripts cannot read the status page or PUT blocks on
 * the gateway's own origin, while links, images and stylesheets work as usual.
 */
const CONTENT_SECURITY_POLICY =
  'sandbox allow-scripts allow-forms allow-popups allow-popups-to-escape-sandbox allow-modals allow-downloads'

/** A strong validator derived from the (immutable) URL and the representation. */
export function etagOf(...parts: string[]): string {
  return `"${createHash('sha256').update(parts.join('\n')).digest('hex').slice(0, 40)}"`
}

export function bytesResource(
  bytes: Uint8Array,
  contentType: string,
  etag: string,
  headers?: Record<string, string>,
): Resource {
  return {
    size: bytes.byteLength,
    contentType,
    etag,
    headers,
    async *read(start, end) {
      yield bytes.subarray(start, end + 1)
    },
  }
}

export interface AnswerOptions {
  /** HEAD: headers only, nothing is read. */
  head: boolean
  requestHeaders: Headers
  /** Called once the first bytes are in hand (before the headers go out): the deadline covers only that. */
  onFirstBytes?: () => void
  /** Counts what is sent. */
  onBytes?: (bytes: number) => void
  /**
   * Ends the connection: a body that fails after its headers were sent must
   * not look complete. Without it the stream is errored instead.
   */
  abortConnection?: () => void
}

/**
 * Answers with a resource: conditional requests (If-None-Match, If-Range),
 * single byte ranges, HEAD. The first bytes are read before the status is
 * chosen, so a block that cannot be fetched is still an error status, not a
 * truncated 200.
 */
export async function answer(resource: Resource, options: AnswerOptions): Promise<Response> {
  const { requestHeaders } = options
  const headers = new Headers({
    'content-type': resource.contentType,
    etag: resource.etag,
    'cache-control': IMMUTABLE,
    'accept-ranges': 'bytes',
    'access-control-allow-origin': '*',
    'x-content-type-options': 'nosniff',
    'content-security-policy': CONTENT_SECURITY_POLICY,
    ...resource.headers,
  })
  if (matchesEtag(requestHeaders.get('if-none-match'), resource.etag)) {
    headers.delete('content-type')
    return new Response(null, { status: 304, headers })
  }
  const ifRange = requestHeaders.get('if-range')
  const range =
    ifRange === null || ifRange === resource.etag
      ? parseRange(requestHeaders.get('range'), resource.size)
      : { kind: 'whole' as const }
  if (range.kind === 'unsatisfiable') {
    headers.set('content-range', `bytes */${resource.size}`)
    headers.set('content-type', 'text/plain; charset=utf-8')
    headers.set('cache-control', 'no-store')
    const body = `416 Range Not Satisfiable: the content has ${resource.size} bytes\n`
    headers.set('content-length', String(Buffer.byteLength(body)))
    return new Response(options.head ? null : body, { status: 416, headers })
  }
  const [start, end] = range.kind === 'partial' ? [range.start, range.end] : [0, resource.size - 1]
  const status = range.kind === 'partial' ? 206 : 200
  if (range.kind === 'partial') headers.set('content-range', `bytes ${start}-${end}/${resource.size}`)
  const length = end - start + 1
  headers.set('content-length', String(length))
  if (options.head || length === 0) {
    options.onFirstBytes?.()
    return new Response(null, { status, headers })
  }
  return new Response(await bodyOf(resource.read(start, end), options), { status, headers })
}

async function bodyOf(
  chunks: AsyncGenerator<Uint8Array, void, undefined>,
  options: AnswerOptions,
): Promise<ReadableStream<Uint8Array>> {
  let first: IteratorResult<Uint8Array, void>
  try {
    first = await chunks.next()
  } catch (err) {
    await chunks.return(undefined).catch(() => {})
    throw err
  }
  options.onFirstBytes?.()
  let pending = first.done === true ? undefined : first.value
  let finished = first.done === true
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      if (pending !== undefined) {
        options.onBytes?.(pending.byteLength)
        controller.enqueue(pending)
        pending = undefined
        return
      }
      if (finished) {
        controller.close()
        return
      }
      try {
        const next = await chunks.next()
        if (next.done === true) {
          finished = true
          controller.close()
        } else {
          options.onBytes?.(next.value.byteLength)
          controller.enqueue(next.value)
        }
      } catch (err) {
        finished = true
        if (options.abortConnection === undefined) {
          controller.error(err)
        } else {
          options.abortConnection()
          controller.close()
        }
      }
    },
    async cancel() {
      finished = true
      await chunks.return(undefined).catch(() => {})
    },
  })
}

function matchesEtag(header: string | null, etag: string): boolean {
  if (header === null) return false
  if (header.trim() === '*') return true
  return header.split(',').some((candidate) => candidate.trim().replace(/^W\//, '') === etag)
}
