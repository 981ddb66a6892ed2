import { setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'

/** Dead buffer bytes a worker leaves before it collects them (see {@link garbageCollector}). */
const GARBAGE_BUDGET = 16 * 1024 * 1024

export interface GarbageCollectorOptions {
  /** Dead buffer bytes between collections (default {@link GARBAGE_BUDGET}). */
  budget?: number
  /**
   * Every how many collections one is full (default 1: all are). The others
   * are minor: enough where buffers die young, within the message that made
   * them, and a fraction of a full collection's cost, which marks the whole
   * heap. The full ones free what a minor one promoted instead.
   */
  majorEvery?: number
}

/**
 * For a worker thread whose garbage is mostly Buffers: returns `discard(bytes)`,
 * to be told how many bytes of buffers just died (a block's cipher or
 * inflate output); once `budget` bytes have, it runs a collection.
 *
 * Node keeps a Buffer's bytes outside V8's heap, and V8 collects them only
 * once tens of MiB of such memory have built up in an isolate since its last
 * collection. A worker that encodes or decodes blocks allocates little else,
 * so each would hold that much in dead output (measured on the backup
 * benchmark: two encoding workers held about 120 MiB of it, and the backup's
 * peak RSS went from about 270 to over 300 MiB). A collection of such a
 * worker's heap (6-12 MiB there) took 13-15 ms, about twenty per backup and
 * worker; restores measured as fast with it as without, 50-80 MiB smaller.
 *
 * `--expose-gc` may be set at run time: a context created afterwards has `gc`.
 */
export function garbageCollector(options: GarbageCollectorOptions = {}): (bytes: number) => void {
  const { budget = GARBAGE_BUDGET, majorEvery = 1 } = options
  setFlagsFromString('--expose-gc')
  const gc = runInNewContext('gc') as (options?: { type: 'major' | 'minor' }) => void
  let dead = 0
  let collections = 0
  return (bytes) => {
    dead += bytes
    if (dead < budget) return
    dead = 0
    collections++
    gc({ type: collections % majorEvery === 0 ? 'major' : 'minor' })
  }
}
