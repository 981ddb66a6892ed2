import {
  AbortError,
  BlockVerificationError,
  blockUrl,
  DecompressionError,
  DecryptionError,
  InvalidBundleError,
  InvalidIdError,
  InvalidKeyError,
  InvalidUrlError,
} from '@libernet/core'
import { CommanderError } from 'commander'
import { InvalidArgumentError, MissingBlocksError, NodeUnavailableError } from '../errors.ts'
import { EXIT, type ExitCode } from './exit-codes.ts'

/** The exit code an error ends the command with. */
export function exitCodeOf(error: unknown): ExitCode {
  if (error instanceof CommanderError) {
    return error.exitCode === 0 ? EXIT.ok : EXIT.usage
  }
  if (error instanceof AbortError) return EXIT.interrupted
  if (error instanceof MissingBlocksError) return EXIT.missingBlocks
  if (error instanceof NodeUnavailableError) return EXIT.nodeUnavailable
  if (
    error instanceof InvalidUrlError ||
    error instanceof InvalidIdError ||
    error instanceof InvalidKeyError ||
    error instanceof InvalidArgumentError
  ) {
    return EXIT.usage
  }
  if (
    error instanceof DecryptionError ||
    error instanceof DecompressionError ||
    error instanceof BlockVerificationError ||
    error instanceof InvalidBundleError
  ) {
    return EXIT.verification
  }
  return EXIT.error
}

/** One line for stderr: what went wrong, in the user's terms. */
export function describeError(error: unknown): string {
  if (error instanceof DecryptionError) {
    return `cannot decrypt: wrong key, or the block is corrupt (${error.message})`
  }
  if (error instanceof MissingBlocksError) {
    const shown = error.ids.slice(0, 20).map((id) => `\n  ${blockUrl(id)}`)
    const more = error.ids.length > 20 ? `\n  ... and ${error.ids.length - 20} more` : ''
    return `${error.message}:${shown.join('')}${more}`
  }
  if (error instanceof InvalidBundleError) return `refusing the bundle: ${error.message} (${error.name})`
  if (error instanceof Error) {
    const code = (error as NodeJS.ErrnoException).code
    return code !== undefined && !error.message.includes(code) ? `${error.message} (${code})` : error.message
  }
  return String(error)
}
