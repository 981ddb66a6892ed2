/** What a `Range` header asks of a representation of `size` bytes (RFC 9110 §14). */
export type RangeRequest =
  | { kind: 'whole' }
  | { kind: 'partial'; start: number; end: number }
  | { kind: 'unsatisfiable' }

// More digits than any real offset: such a header is not worth parsing.
const SINGLE_RANGE = /^bytes[ \t]*=[ \t]*(\d{0,20})[ \t]*-[ \t]*(\d{0,20})[ \t]*$/i

/**
 * Parses a single byte range; `end` is inclusive. Anything the gateway does
 * not serve as a range (no header, multiple ranges, other units, bad syntax)
 * is `whole`: a server may always answer a Range request with the full body.
 */
export function parseRange(header: string | undefined | null, size: number): RangeRequest {
  if (header === undefined || header === null) return { kind: 'whole' }
  const match = SINGLE_RANGE.exec(header)
  if (match === null) return { kind: 'whole' }
  const [, first = '', last = ''] = match
  if (first === '' && last === '') return { kind: 'whole' }
  if (first === '') {
    const suffix = Number(last)
    if (suffix === 0 || size === 0) return { kind: 'unsatisfiable' }
    return { kind: 'partial', start: Math.max(0, size - suffix), end: size - 1 }
  }
  const start = Number(first)
  if (last !== '' && Number(last) < start) return { kind: 'whole' }
  if (start >= size) return { kind: 'unsatisfiable' }
  const end = last === '' ? size - 1 : Number(last)
  return { kind: 'partial', start, end: Math.min(end, size - 1) }
}
