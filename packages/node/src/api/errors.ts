import { LibernetError } from '@libernet/core'
import * as nodeErrors from '../errors.ts'

/** How an error crosses the API: its class name, message and, for missing blocks, the ids. */
export interface ApiErrorBody {
  error: { name: string; message: string; ids?: string[] }
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
