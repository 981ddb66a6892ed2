import { NodeUnavailableError } from '../errors.ts'

/** Commands that need the libp2p node, which a later version brings. */
export function needsRunningNode(command: string): never {
  const what =
    command === 'start'
      ? 'the network node is not part of this version yet'
      : `'${command}' needs a running node (libernet start), which is not part of this version yet`
  throw new NodeUnavailableError(
    `${what}; backup, restore, ls, cat, put, get, check, snapshots and import work on the local store`,
  )
}
