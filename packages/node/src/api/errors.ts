import * as blockstoreErrors from '@libernet/blockstore'
import * as core from '@libernet/core'
import { LibernetError } from '@libernet/core'
import * as nodeErrors from '../errors.ts'

/** How an error crosses the API: its class name, message and, for missing blocks, the ids. */
export interface ApiErrorBody {
  error: { name: string; message: string; ids?: string[] }
}

type ErrorClass = new (message?: string) => Error

const REVIVABLE: Record<string, ErrorClass> = {}
for (const module of [core, blockstoreErrors, nodeErrors] as Record<string, unknown>[]) {
  for (const value of Object.values(module)) {
    if (typeof value === 'function' && value.prototype instanceof LibernetError) {
      REVIVABLE[value.name] = value as ErrorClass
    }
  }
}

/** The HTTP status for an error the node raised while serving an API call. */
export function statusOf(error: Error): 400 | 404 | 409 | 500 | 503 | 504 | 507 {
  switch (error.name) {
    case 'MissingBlocksError':
      return 504
    case 'NotFoundError':
      return 404
    case 'QuotaExceededError':
    case 'DiskFullError':
      return 507
    case 'BlockPinnedError':
      return 409
    case 'StoreClosedError':
      return 503
    default:
      return error instanceof LibernetError ? 400 : 500
  }
}

export function errorBody(error: Error): ApiErrorBody {
  const ids = error instanceof nodeErrors.MissingBlocksError ? { ids: error.ids } : {}
  return { error: { name: error.name, message: error.message, ...ids } }
}

/** The typed error an API answer carries, as the same class when it is one of ours. */
export function reviveError(body: unknown, status: number): Error {
  const error = (body as Partial<ApiErrorBody> | undefined)?.error
  if (error === undefined || typeof error.name !== 'string') {
    return new nodeErrors.NodeUnavailableError(`the node answered HTTP ${status}`)
  }
  if (error.name === 'MissingBlocksError') return new nodeErrors.MissingBlocksError(error.ids ?? [], error.message)
  const Revived = REVIVABLE[error.name]
  if (Revived !== undefined) return new Revived(error.message)
  const generic = new Error(error.message)
  generic.name = error.name
  return generic
}
