import { blockUrl } from '@libernet/core'
import { checkRepository } from '../check.ts'
import type { CommandContext } from './context.ts'
import { EXIT, type ExitCode } from './exit-codes.ts'

export async function checkCommand(options: { readData?: boolean }, context: CommandContext): Promise<ExitCode> {
  const { output } = context
  const repo = await context.repo()
  const result = await checkRepository({
    store: repo.store,
    pool: repo.pool,
    snapshots: repo.snapshots,
    verifyStore: () => repo.verifyStore({ signal: context.signal }),
    roots: await repo.pinRoots(),
    readData: options.readData === true,
    signal: context.signal,
  })
  const missing = result.snapshots.reduce((sum, snapshot) => sum + snapshot.missing.length, 0)
  const corrupt =
    (result.store?.corrupt.length ?? 0) + result.snapshots.reduce((sum, snapshot) => sum + snapshot.corrupt.length, 0)
  const unreadable = result.snapshots.filter(
    (snapshot) => snapshot.error !== undefined && snapshot.missing.length === 0,
  )
  // With a node running, replication health too: how many peers hold each snapshot's blocks.
  const node = await context.node()
  const replication = node === undefined ? undefined : (await node.status(context.signal)).snapshots
  output.result({
    ...result,
    ...(replication !== undefined ? { replication } : {}),
    missing,
    corrupt,
    ok: missing === 0 && corrupt === 0 && unreadable.length === 0,
  })
  if (result.store !== undefined) {
    output.line(`store: ${result.store.checked} blocks verified, ${result.store.corrupt.length} corrupt`)
    for (const id of result.store.corrupt) output.error(`corrupt block ${blockUrl(id)}`)
  }
  for (const snapshot of result.snapshots) {
    const state =
      snapshot.error !== undefined
        ? `UNREADABLE (${snapshot.error})`
        : snapshot.missing.length > 0 || snapshot.corrupt.length > 0
          ? `${snapshot.missing.length} missing and ${snapshot.corrupt.length} corrupt blocks`
          : 'ok'
    output.line(`${snapshot.folder}  ${snapshot.url}  ${snapshot.files} files, ${snapshot.parts} parts: ${state}`)
    for (const id of snapshot.missing) output.error(`  missing ${blockUrl(id)}`)
    for (const id of snapshot.corrupt) output.error(`  corrupt ${blockUrl(id)}`)
  }
  for (const snapshot of replication ?? []) {
    const { blocks, replicated, underReplicated, localOnly, minReplicas } = snapshot.replication
    const line = `replication ${snapshot.folder}: ${replicated}/${blocks} blocks fully replicated, ${underReplicated} under, ${localOnly} only here (min ${minReplicas})`
    if (localOnly > 0 || underReplicated > 0) output.warn(line)
    else output.line(line)
  }
  if (corrupt > 0 || unreadable.length > 0) return EXIT.verification
  if (missing > 0) return EXIT.missingBlocks
  return EXIT.ok
}
