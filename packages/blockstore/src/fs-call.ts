/**
 * One call of fs's callback API as a promise. The store's hot paths (a
 * block's open, write or read, close, rename) use it instead of
 * fs/promises' FileHandle, whose per-handle bookkeeping and promise chain
 * cost a measurable share of a 1 MiB page-cache read or write.
 */
export function fsCall<T = void>(
  start: (done: (err: NodeJS.ErrnoException | null, value?: T) => void) => void,
): Promise<T> {
  return new Promise((resolve, reject) => {
    start((err, value) => (err === null ? resolve(value as T) : reject(err)))
  })
}
