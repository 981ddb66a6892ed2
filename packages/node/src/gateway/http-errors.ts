import {
  BlockTooLargeError,
  BlockVerificationError,
  DecompressionError,
  DecryptionError,
  InvalidBundleError,
  InvalidIdError,
  InvalidKeyError,
  InvalidUrlError,
} from '@libernet/core'
import { MissingBlocksError, NotFoundError } from '../errors.ts'

/** An answer the gateway gives instead of content: a status and a one-line reason. */
export class HttpError extends Error {
  readonly status: number

  constructor(status: number, message: string, options?: ErrorOptions) {
    super(message, options)
    this.name = 'HttpError'
    this.status = status
  }
}

/**
 * What went wrong, as the status and short text a client sees. `undefined`:
 * a fault of the gateway itself. `offline`: no network behind the store, so a
 * missing block is simply not there (404) rather than late (504).
 */
export function describeError(
  err: unknown,
  timedOut: boolean,
  offline = false,
): { status: number; message: string } | undefined {
  if (err instanceof HttpError) return { status: err.status, message: err.message }
  if (!(err instanceof Error)) return undefined
  if (timedOut && (err.name === 'AbortError' || err.name === 'TimeoutError')) {
    return { status: 504, message: 'timed out waiting for the blocks of this URL' }
  }
  if (err instanceof InvalidUrlError || err instanceof InvalidIdError || err instanceof InvalidKeyError) {
    return { status: 400, message: err.message }
  }
  if (err instanceof DecryptionError || err instanceof DecompressionError) {
    return { status: 400, message: `cannot decode this block with the key in the URL (${err.message})` }
  }
  if (err instanceof InvalidBundleError) return { status: 400, message: `the bundle is not valid: ${err.message}` }
  if (err instanceof NotFoundError) return { status: 404, message: err.message }
  if (err instanceof MissingBlocksError) {
    if (offline) return { status: 404, message: `${err.message} (no node is running to fetch it)` }
    return { status: 504, message: `${err.message}, and no peer supplied it in time` }
  }
  // A stored copy that fails its hash is quarantined by the store: for the client it is a block nobody supplied.
  if (err.name === 'CorruptBlockError') {
    return offline
      ? { status: 404, message: `${err.message} (no good copy here)` }
      : { status: 504, message: `${err.message}; no good copy was found in time` }
  }
  if (err instanceof BlockTooLargeError) return { status: 413, message: err.message }
  if (err instanceof BlockVerificationError) return { status: 400, message: err.message }
  if (err.name === 'QuotaExceededError' || err.name === 'DiskFullError') return { status: 507, message: err.message }
  return undefined
}
