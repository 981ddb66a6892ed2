import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { getRequestListener } from '@hono/node-server'
import type { Registry } from 'prom-client'
import { createGatewayApp, errorResponse, type PutBlock } from './app.ts'
import type { GatewayBackend } from './backend.ts'
import { GatewayMetrics } from './metrics.ts'

export const DEFAULT_GATEWAY_HOST = '127.0.0.1'
export const DEFAULT_GATEWAY_PORT = 8042

export interface GatewayOptions {
  backend: GatewayBackend
  /** Default 127.0.0.1. */
  host?: string
  /** Default 8042; 0 picks a free port. */
  port?: number
  /** Answer PUT, the status page and /metrics to clients on other machines too (default: loopback only). */
  allowRemotePrivate?: boolean
  /** How PUT stores a block (a node also announces it); default `backend.store.put`, which verifies it. */
  putBlock?: PutBlock
  /** Time allowed to resolve a URL and fetch its first bytes before answering 504 (default 30 s). */
  timeoutMs?: number
  /**
   * The backend has no network (a gateway over a local data directory): a
   * block it lacks is answered 404 instead of 504. Default false.
   */
  offline?: boolean
  /** Faults of the gateway itself, answered 500 (default: printed to stderr). */
  onError?: (err: unknown) => void
}

export interface Gateway {
  /** Base URL, e.g. `http://127.0.0.1:8042`. */
  url: string
  host: string
  port: number
  server: Server
  /** The gateway's own Prometheus registry (what /metrics serves). */
  registry: Registry
  /** Stops listening and ends open connections, streams included. */
  close(): Promise<void>
}

/** Starts the HTTP gateway (DESIGN §6) and resolves once it listens. */
export async function startGateway(options: GatewayOptions): Promise<Gateway> {
  const host = options.host ?? DEFAULT_GATEWAY_HOST
  const metrics = new GatewayMetrics()
  const onError = options.onError ?? ((err: unknown) => console.error('gateway:', err))
  let url: string | undefined
  const app = createGatewayApp({
    backend: options.backend,
    metrics,
    boundHost: host,
    allowRemotePrivate: options.allowRemotePrivate === true,
    putBlock: options.putBlock ?? ((id, bytes, putOptions) => options.backend.store.put(id, bytes, putOptions)),
    timeoutMs: options.timeoutMs ?? 30_000,
    offline: options.offline === true,
    gatewayUrl: () => url,
    onError,
  })
  const listener = getRequestListener(app.fetch, {
    // Only a request the adapter cannot even build (a malformed target or Host) gets here.
    errorHandler: () => errorResponse(400, 'malformed request'),
  })
  const server = createServer(
    {
      // A URL is at most 16 KiB (core's MAX_URL_LENGTH); a little room for the other headers.
      maxHeaderSize: 32 * 1024,
      headersTimeout: 20_000,
      requestTimeout: 120_000,
      keepAliveTimeout: 5_000,
    },
    listener,
  )
  server.on('clientError', (_err, socket) => {
    if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Length: 0\r\n\r\n')
    else socket.destroy()
  })
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(options.port ?? DEFAULT_GATEWAY_PORT, host, () => {
      server.off('error', reject)
      resolve()
    })
  })
  const address = server.address() as AddressInfo
  // Bound to every interface: this machine reaches it over loopback.
  const reachable = address.address === '0.0.0.0' ? '127.0.0.1' : address.address === '::' ? '::1' : address.address
  const shownHost = address.family === 'IPv6' ? `[${reachable}]` : reachable
  url = `http://${shownHost}:${address.port}`
  return {
    url,
    host: address.address,
    port: address.port,
    server,
    registry: metrics.registry,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((err) => (err === undefined ? resolve() : reject(err)))
        server.closeAllConnections()
      }),
  }
}
