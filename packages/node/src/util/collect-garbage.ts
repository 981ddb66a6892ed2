import { setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'

/**
 * A function that runs a full garbage collection in this thread.
 *
 * Node keeps a Buffer's bytes outside V8's heap, and V8 collects them only
 * once tens of MiB of such memory have built up in an isolate since its last
 * collection. A worker that encodes blocks allocates little else, so each
 * would hold that much in dead deflate and cipher output (measured on the
 * backup benchmark: two encoding workers held about 120 MiB of it and the
 * backup's peak RSS went from about 270 to over 300 MiB). Collecting every
 * few MiB of output keeps it small; each collection of such a worker's small
 * heap takes a few milliseconds.
 *
 * `--expose-gc` may be set at run time: a context created afterwards has `gc`.
 */
export function garbageCollector(): () => void {
  setFlagsFromString('--expose-gc')
  const gc = runInNewContext('gc') as (options?: { type: 'major' | 'minor' }) => void
  return () => gc({ type: 'major' })
}
