import { parseBlockId } from '@libernet/core'
import type { ApiClient } from '../api/client.ts'
import { NodeUnavailableError } from '../errors.ts'
import { formatBytes } from '../util/format.ts'
import type { CommandContext } from './context.ts'
import { EXIT, type ExitCode } from './exit-codes.ts'

async function runningNode(context: CommandContext, command: string): Promise<ApiClient> {
  const node = await context.node()
  if (node === undefined) {
    throw new NodeUnavailableError(
      `'${command}' needs a running node on ${context.dataDir}: start one with 'libernet start' (other commands work offline)`,
    )
  }
  return node
}

export async function peersCommand(context: CommandContext): Promise<ExitCode> {
  const peers = await (await runningNode(context, 'peers')).peers(context.signal)
  context.output.result({ peers })
  if (peers.length === 0) context.output.line('no peers connected')
  for (const peer of peers) {
    const latency = peer.latencyMs !== undefined ? `${peer.latencyMs} ms` : '-'
    context.output.line(
      `${peer.id}  ${peer.discoveredBy.padEnd(9)} ${latency.padStart(7)}  ${String(peer.replicasHeld).padStart(6)} replicas  ${peer.addresses[0] ?? ''}`,
    )
  }
  return EXIT.ok
}

export async function statusCommand(context: CommandContext): Promise<ExitCode> {
  const status = await (await runningNode(context, 'status')).status(context.signal)
  const { output } = context
  output.result(status)
  output.line(`node      ${status.peerId} (since ${status.startedAt})`)
  for (const address of status.addresses) output.line(`listening ${address}`)
  if (status.gateway !== undefined) output.line(`gateway   ${status.gateway}`)
  output.line(`peers     ${status.peers.length} connected`)
  const quota = status.storage.quotaBytes === null ? 'no quota' : `quota ${formatBytes(status.storage.quotaBytes)}`
  output.line(
    `storage   ${formatBytes(status.storage.usedBytes)} in ${status.storage.blocks} blocks, ${formatBytes(status.storage.pinnedBytes)} pinned, ${quota}`,
  )
  output.line(`snapshots (${status.replicas} replicas wanted per block)`)
  for (const snapshot of status.snapshots) {
    const { blocks, replicated, underReplicated, localOnly, minReplicas } = snapshot.replication
    output.line(
      `  ${snapshot.folder}  ${snapshot.time}  ${blocks} blocks: ${replicated} replicated, ${underReplicated} under, ${localOnly} local only (min ${minReplicas})`,
    )
  }
  return EXIT.ok
}

export async function providersCommand(id: string, options: { timeout?: string }, context: CommandContext) {
  const node = await runningNode(context, 'providers')
  const timeout = options.timeout !== undefined ? Number(options.timeout) * 1000 : undefined
  const providers = await node.providers(parseBlockId(id), { timeout, signal: context.signal })
  context.output.result({ providers })
  for (const provider of providers) context.output.line(provider)
  return providers.length > 0 ? EXIT.ok : EXIT.missingBlocks
}

export async function likeCommand(id: string, options: { limit?: string }, context: CommandContext) {
  const target = parseBlockId(id)
  const limit = options.limit !== undefined ? Number(options.limit) : 20
  // Through the node (its store and its peers) when one runs, else the local store.
  const matches = await (await context.repo()).like(target, { limit, signal: context.signal })
  context.output.result({ matches })
  for (const match of matches) context.output.line(`${String(match.score).padStart(3)}  ${match.id}  ${match.size}`)
  return EXIT.ok
}
