import { NodeUnavailableError } from '../errors.ts'

/** Commands that need the libp2p node, which a later version brings. */
export function needsRunningNode(command: string): never {
  throw new NodeUnavailableError(
    `'${command}' needs a running node (libernet start), which is not available in this version`,
  )
}
