import type { BlockId } from '@libernet/core'
import { NodeUnavailableError } from '../errors.ts'
import type { LikeAnswer } from '../gateway/backend.ts'
import type { NodeStatus, PeerStatus } from '../status.ts'
import type { EngineStore } from '../store.ts'
import type { ApiEndpoint } from './file.ts'
import { API_PREFIX } from './paths.ts'
import { reviveError } from './revive.ts'

interface RequestInit {
  method?: string
  body?: Uint8Array | string
  signal?: AbortSignal
  query?: Record<string, string>
}

/** Talks to the node running on a data directory, through its loopback API. */
export class ApiClient {
  readonly endpoint: ApiEndpoint

  constructor(endpoint: ApiEndpoint) {
    this.endpoint = endpoint
  }

  async #request(path: string, init: RequestInit = {}): Promise<Response> {
    const query = init.query === undefined ? '' : `?${new URLSearchParams(init.query)}`
    let response: Response
    try {
      response = await fetch(`${this.endpoint.url}${API_PREFIX}${path}${query}`, {
        method: init.method ?? 'GET',
        headers: {
          authorization: `Bearer ${this.endpoint.token}`,
          ...(typeof init.body === 'string' ? { 'content-type': 'application/json' } : {}),
        },
        body: init.body as string | Uint8Array<ArrayBuffer> | undefined,
        signal: init.signal,
      })
    } catch (err) {
      if ((err as Error).name === 'AbortError' || init.signal?.aborted === true) throw err
      throw new NodeUnavailableError(`the node at ${this.endpoint.url} does not answer (${(err as Error).message})`)
    }
    return response
  }

  async #json<T>(path: string, init: RequestInit = {}): Promise<T> {
    const response = await this.#request(path, init)
    const body = await response.json().catch(() => undefined)
    if (!response.ok) throw reviveError(body, response.status)
    return body as T
  }

  id(signal?: AbortSignal): Promise<{ peerId: string; addresses: string[]; gateway: string | null }> {
    return this.#json('/id', { signal })
  }

  status(signal?: AbortSignal): Promise<NodeStatus> {
    return this.#json('/status', { signal })
  }

  async peers(signal?: AbortSignal): Promise<PeerStatus[]> {
    return (await this.#json<{ peers: PeerStatus[] }>('/peers', { signal })).peers
  }

  async providers(id: BlockId, options: { timeout?: number; signal?: AbortSignal } = {}): Promise<string[]> {
    const query = options.timeout !== undefined ? { timeout: String(options.timeout) } : undefined
    return (await this.#json<{ providers: string[] }>(`/providers/${id}`, { signal: options.signal, query })).providers
  }

  async like(target: BlockId, options: { limit?: number; minScore?: number; signal?: AbortSignal } = {}) {
    const query: Record<string, string> = {}
    if (options.limit !== undefined) query.limit = String(options.limit)
    if (options.minScore !== undefined) query.minScore = String(options.minScore)
    return (await this.#json<{ matches: LikeAnswer[] }>(`/like/${target}`, { signal: options.signal, query })).matches
  }

  async pins(): Promise<{ owner: string; url: string }[]> {
    return (await this.#json<{ pins: { owner: string; url: string }[] }>('/pins')).pins
  }

  verify(signal?: AbortSignal): Promise<{ checked: number; corrupt: string[] }> {
    return this.#json('/verify', { method: 'POST', signal })
  }

  /** The engine's store, served by the node: blocks come from its store or its peers; pins replicate. */
  store(): EngineStore {
    return {
      has: async (id, options = {}) => {
        const response = await this.#request(`/blocks/${id}`, { method: 'HEAD', signal: options.signal })
        return response.ok
      },
      get: async (id, options = {}) => {
        const query = options.verify === false ? { verify: '0' } : undefined
        const response = await this.#request(`/blocks/${id}`, { signal: options.signal, query })
        if (response.ok) return new Uint8Array(await response.arrayBuffer())
        const body = await response.json().catch(() => undefined)
        if (response.status === 504) return undefined
        throw reviveError(body, response.status)
      },
      put: async (id, bytes, options = {}) => {
        const answer = await this.#json<{ added: boolean }>(`/blocks/${id}`, {
          method: 'PUT',
          body: bytes.slice(),
          signal: options.signal,
        })
        return answer.added
      },
      pin: async (url, owner) => {
        await this.#json('/pin', { method: 'POST', body: JSON.stringify({ url, owner }) })
      },
      unpin: async (url, owner) => {
        await this.#json('/unpin', { method: 'POST', body: JSON.stringify({ url, owner }) })
      },
      close: async () => {},
    }
  }
}
