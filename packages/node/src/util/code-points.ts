/**
 * Orders strings by Unicode code point, as Python sorts `str` and so as
 * bundle keys are sorted. JS `<` compares UTF-16 units, which puts astral
 * characters (surrogate pairs) before U+E000..U+FFFF.
 */
export function compareCodePoints(a: string, b: string): number {
  const length = Math.min(a.length, b.length)
  for (let i = 0; i < length; i++) {
    const x = a.charCodeAt(i)
    const y = b.charCodeAt(i)
    if (x === y) continue
    // Only a surrogate against a unit in U+E000..U+FFFF orders differently by code point.
    const xHigh = x >= 0xd800 && x <= 0xdfff
    const yHigh = y >= 0xd800 && y <= 0xdfff
    if (xHigh !== yHigh) return xHigh ? 1 : -1
    return x - y
  }
  return a.length - b.length
}
