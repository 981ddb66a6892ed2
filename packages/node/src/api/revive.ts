import * as core from '@libernet/core'
import { LibernetError } from '@libernet/core'
import * as nodeErrors from '../errors.ts'
import type { ApiErrorBody } from './errors.ts'

type ErrorClass = new (message?: string) => Error

/**
 * Classes an API error comes back as, so callers (exit codes, messages) see
 * the same types as offline. Only core's and the node's: the client must not
 * load the block store to read an answer; other errors keep their name.
 */
const REVIVABLE: Record<string, ErrorClass> = {}
for (const module of [core, nodeErrors] as Record<string, unknown>[]) {
  for (const value of Object.values(module)) {
    if (typeof value === 'function' && value.prototype instanceof LibernetError) {
      REVIVABLE[value.name] = value as ErrorClass
    }
  }
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
