import { once } from 'node:events'
import { mkdir } from 'node:fs/promises'
import { newApiToken, readApiFile, removeApiFile, writeApiFile } from '../api/file.ts'
import { startApiServer } from '../api/server.ts'
import { DataDirectoryError } from '../errors.ts'
import { type Gateway, startGateway } from '../gateway/index.ts'
import { loadConfig, type NodeConfig, validateConfig } from '../host/config.ts'
import { LibernetNode } from '../host/node.ts'
import { parseSize } from '../util/size.ts'
import type { CommandContext } from './context.ts'
import { EXIT, type ExitCode } from './exit-codes.ts'

export interface StartCommandOptions {
  listen?: string[]
  bootstrap?: string[]
  /** false with --no-mdns */
  mdns?: boolean
  quota?: string
  replicas?: string
  gatewayHost?: string
  gatewayPort?: string
  /** false with --no-gateway */
  gateway?: boolean
}

/** The config for this run: `config.json`, then the flags on top (not written back). */
export async function runConfig(dataDir: string, options: StartCommandOptions): Promise<NodeConfig> {
  await mkdir(dataDir, { recursive: true })
  const stored = await loadConfig(dataDir)
  const gateway =
    options.gateway === false
      ? null
      : {
          host: options.gatewayHost ?? stored.gateway?.host ?? '127.0.0.1',
          port: options.gatewayPort !== undefined ? Number(options.gatewayPort) : (stored.gateway?.port ?? 8042),
        }
  return validateConfig({
    ...stored,
    ...(options.listen !== undefined ? { listen: options.listen } : {}),
    ...(options.bootstrap !== undefined ? { bootstrap: [...stored.bootstrap, ...options.bootstrap] } : {}),
    ...(options.mdns === false ? { mdns: false } : {}),
    ...(options.quota !== undefined ? { quota: parseSize(options.quota) } : {}),
    ...(options.replicas !== undefined ? { replicas: Number(options.replicas) } : {}),
    gateway,
  })
}

/**
 * `libernet start`: runs the node in the foreground until SIGINT/SIGTERM,
 * then stops it cleanly (connections closed, metadata flushed, `api` file
 * removed). Other commands on the same data directory go through it.
 */
export async function startCommand(options: StartCommandOptions, context: CommandContext): Promise<ExitCode> {
  const { dataDir, output, signal } = context
  const running = await readApiFile(dataDir)
  if (running !== undefined) {
    throw new DataDirectoryError(`a node already runs on ${dataDir} (pid ${running.pid}, ${running.url})`)
  }
  const config = await runConfig(dataDir, options)
  const node = await LibernetNode.start({ dataDir, config })
  const stops: Array<() => Promise<void>> = [() => node.stop()]
  try {
    const gateway = config.gateway === null ? undefined : await startNodeGateway(node, config.gateway)
    if (gateway !== undefined) {
      stops.unshift(gateway.close)
      node.gatewayUrl = gateway.url
    }
    const token = newApiToken()
    const api = await startApiServer(node, token)
    stops.unshift(api.close)
    await writeApiFile(dataDir, {
      url: api.url,
      token,
      peerId: node.peerId,
      addresses: node.addresses(),
      pid: process.pid,
      gateway: gateway?.url ?? null,
    })
    stops.unshift(() => removeApiFile(dataDir))
    output.result({ peerId: node.peerId, addresses: node.addresses(), gateway: gateway?.url ?? null, api: api.url })
    output.info(`libernet node ${node.peerId} ready`)
    for (const address of node.addresses()) output.info(`  listening on ${address}`)
    if (gateway !== undefined) output.info(`  gateway ${gateway.url}`)
    output.info(`  mDNS ${config.mdns ? 'on' : 'off'}, ${config.replicas} replicas per block, data in ${dataDir}`)
    if (!signal.aborted) await once(signal, 'abort')
    output.info('stopping...')
  } finally {
    for (const stop of stops) await stop().catch((err: Error) => output.warn(`while stopping: ${err.message}`))
  }
  return EXIT.ok
}

/** The HTTP gateway in front of a running node: blocks it lacks come from the network. */
async function startNodeGateway(node: LibernetNode, address: { host: string; port: number }): Promise<Gateway> {
  return startGateway({
    backend: {
      store: node.store,
      pool: node.pool,
      like: (target, options) => node.like(target, options),
      status: () => node.status(),
    },
    host: address.host,
    port: address.port,
    timeoutMs: node.config.fetchTimeout * 1000,
  })
}
