/**
 * Maps `source` through `work` with up to `concurrency` calls in flight and
 * yields the results in source order, as the `*Many` methods of
 * interface-blockstore promise. A failure is thrown when its turn comes.
 */
export async function* orderedParallel<T, R>(
  source: Iterable<T> | AsyncIterable<T>,
  concurrency: number,
  work: (item: T) => Promise<R>,
): AsyncGenerator<R, void, undefined> {
  const window: Promise<R>[] = []
  try {
    for await (const item of source) {
      const result = work(item)
      // Observed now so that an early failure is not reported as unhandled; it is rethrown in order below.
      result.catch(() => {})
      window.push(result)
      if (window.length >= concurrency) yield await window.shift()!
    }
    while (window.length > 0) yield await window.shift()!
  } finally {
    window.length = 0
  }
}
