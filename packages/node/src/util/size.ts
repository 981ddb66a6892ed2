import { InvalidArgumentError } from '../errors.ts'

const UNITS: Record<string, number> = {
  '': 1,
  b: 1,
  k: 1e3,
  kb: 1e3,
  m: 1e6,
  mb: 1e6,
  g: 1e9,
  gb: 1e9,
  t: 1e12,
  tb: 1e12,
  kib: 2 ** 10,
  mib: 2 ** 20,
  gib: 2 ** 30,
  tib: 2 ** 40,
}

/** Parses a byte size as people write it: `20GB`, `500 MiB`, `1.5t`, `1048576`. */
export function parseSize(text: string): number {
  const match = /^\s*(\d+(?:\.\d+)?)\s*([a-z]*)\s*$/i.exec(text)
  const unit = match === null ? undefined : UNITS[match[2]!.toLowerCase()]
  if (match === null || unit === undefined) {
    throw new InvalidArgumentError(`not a size: ${JSON.stringify(text)} (use e.g. 20GB, 500MiB, 1048576)`)
  }
  const bytes = Math.floor(Number(match[1]) * unit)
  if (!Number.isSafeInteger(bytes)) throw new InvalidArgumentError(`size too large: ${text}`)
  return bytes
}
