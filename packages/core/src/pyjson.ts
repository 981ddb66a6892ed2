import { isAscii, isUtf8 } from 'node:buffer'
import { DuplicateEntryError, InvalidBundleError } from './errors.ts'

/**
 * JSON exactly as Python's `json` module reads and writes it with
 * `json.dumps(obj, sort_keys=True, separators=(",", ":"))`: the original
 * Libernet hashes and encrypts these bytes, so a bundle only deduplicates and
 * verifies across implementations if every byte matches.
 *
 * Python keeps ints and floats apart (`621693800.0` is not `621693800`), so
 * this module does too: a JS `number` (or a `bigint` beyond 2^53) is a Python
 * int, a {@link PyFloat} is a Python float.
 */

/** A Python float. Wrapped so that `621693800.0` keeps its `.0` when written back. */
export class PyFloat {
  readonly value: number

  constructor(value: number) {
    this.value = value
  }

  toString(): string {
    return formatPyFloat(this.value)
  }
}

export type PyJson = null | boolean | number | bigint | PyFloat | string | PyJson[] | PyObject

export interface PyObject {
  [key: string]: PyJson
}

export function pyFloat(value: number): PyFloat {
  return new PyFloat(value)
}

/** The numeric value of a Python int or float. */
export function pyNumberValue(value: number | bigint | PyFloat): number {
  return value instanceof PyFloat ? value.value : Number(value)
}

/** Adds a key to a JSON object, including `__proto__` (plain assignment would replace the prototype instead). */
export function setPyKey(object: PyObject, key: string, value: PyJson): void {
  if (key === '__proto__') {
    Object.defineProperty(object, key, { value, enumerable: true, writable: true, configurable: true })
  } else {
    object[key] = value
  }
}

export function isPyObject(value: PyJson | undefined): value is PyObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof PyFloat)
}

/**
 * Python's `repr(float)`: the shortest digits that round-trip, in fixed
 * notation when the decimal exponent is in [-4, 16), else `d.ddde±XX`.
 */
export function formatPyFloat(value: number): string {
  if (Number.isNaN(value)) return 'NaN'
  if (value === Number.POSITIVE_INFINITY) return 'Infinity'
  if (value === Number.NEGATIVE_INFINITY) return '-Infinity'
  if (value < 0 || Object.is(value, -0)) return `-${formatPyFloat(-value)}`
  if (value === 0) return '0.0'

  // toExponential() without an argument yields the shortest round-trip digits, as Python's repr does.
  const exponential = value.toExponential()
  const mark = exponential.indexOf('e')
  const digits = exponential.slice(0, mark).replace('.', '')
  const exponent = Number(exponential.slice(mark + 1))

  if (exponent < -4 || exponent >= 16) {
    const mantissa = digits.length > 1 ? `${digits[0]}.${digits.slice(1)}` : digits
    const sign = exponent < 0 ? '-' : '+'
    return `${mantissa}e${sign}${String(Math.abs(exponent)).padStart(2, '0')}`
  }
  const point = exponent + 1
  if (point <= 0) return `0.${'0'.repeat(-point)}${digits}`
  if (point >= digits.length) return `${digits}${'0'.repeat(point - digits.length)}.0`
  return `${digits.slice(0, point)}.${digits.slice(point)}`
}

/**
 * Orders strings by Unicode code point, as Python sorts `str`. JS compares
 * UTF-16 units, which puts astral characters (surrogate pairs) before
 * U+E000..U+FFFF; Python puts them after.
 */
export function compareCodePoints(a: string, b: string): number {
  const length = Math.min(a.length, b.length)
  let i = 0
  while (i < length && a.charCodeAt(i) === b.charCodeAt(i)) i++
  if (i === length) return a.length - b.length
  const x = a.charCodeAt(i)
  const y = b.charCodeAt(i)
  if (!isSurrogate(x) && !isSurrogate(y) && (i === 0 || !isSurrogate(a.charCodeAt(i - 1)))) return x - y
  return compareCodePointsFrom(a, b, i > 0 && isSurrogate(a.charCodeAt(i - 1)) ? i - 1 : i)
}

function isSurrogate(unit: number): boolean {
  return unit >= 0xd800 && unit <= 0xdfff
}

function compareCodePointsFrom(a: string, b: string, start: number): number {
  let i = start
  let j = start
  while (i < a.length && j < b.length) {
    const x = a.codePointAt(i)!
    const y = b.codePointAt(j)!
    if (x !== y) return x - y
    i += x > 0xffff ? 2 : 1
    j += y > 0xffff ? 2 : 1
  }
  return a.length - i - (b.length - j)
}

// Everything outside printable ASCII, plus `"` and `\`, is escaped (ensure_ascii=True).
const NEEDS_ESCAPE = /[^\x20\x21\x23-\x5b\x5d-\x7e]/
const SHORT_ESCAPES: Record<number, string> = {
  34: '\\"',
  92: '\\\\',
  10: '\\n',
  13: '\\r',
  9: '\\t',
  8: '\\b',
  12: '\\f',
}

/** A JSON string literal as Python writes it: lowercase `\uXXXX` for every UTF-16 unit outside printable ASCII. */
export function quotePyString(text: string): string {
  if (!NEEDS_ESCAPE.test(text)) return `"${text}"`
  let out = '"'
  let from = 0
  for (let i = 0; i < text.length; i++) {
    const unit = text.charCodeAt(i)
    if (unit >= 0x20 && unit < 0x7f && unit !== 0x22 && unit !== 0x5c) continue
    out += text.slice(from, i)
    out += SHORT_ESCAPES[unit] ?? `\\u${unit.toString(16).padStart(4, '0')}`
    from = i + 1
  }
  return `${out}${text.slice(from)}"`
}

/**
 * Serializes like `json.dumps(value, sort_keys=True, separators=(",", ":"))`.
 * The result is pure ASCII. A JS number that is not an integer is refused:
 * wrap it in {@link PyFloat} to say it is a float.
 */
export function stringifyPyJson(value: PyJson): string {
  // Appending to one string lets V8 build a rope; far faster than collecting pieces for join().
  return write(value, '')
}

/** {@link stringifyPyJson} as bytes (ASCII, hence also UTF-8). */
export function encodePyJson(value: PyJson): Uint8Array {
  return asciiBytes(stringifyPyJson(value))
}

export function asciiBytes(text: string): Uint8Array {
  const buffer = Buffer.from(text, 'latin1')
  return new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength)
}

const HAS_SURROGATE = /[\ud800-\udfff]/

function sortedKeys(object: PyObject): string[] {
  const keys = Object.keys(object)
  // Without surrogates, UTF-16 order is code point order and the native sort is exact.
  return keys.some((key) => HAS_SURROGATE.test(key)) ? keys.sort(compareCodePoints) : keys.sort()
}

function write(value: PyJson, out: string): string {
  switch (typeof value) {
    case 'string':
      return out + quotePyString(value)
    case 'boolean':
      return out + (value ? 'true' : 'false')
    case 'bigint':
      return out + value.toString()
    case 'number':
      if (!Number.isInteger(value)) {
        throw new TypeError(`${value} is not an int; wrap floats in PyFloat`)
      }
      return out + (Number.isSafeInteger(value) ? String(value === 0 ? 0 : value) : BigInt(value).toString())
    case 'object': {
      if (value === null) return `${out}null`
      if (value instanceof PyFloat) return out + formatPyFloat(value.value)
      if (Array.isArray(value)) {
        out += '['
        for (let i = 0; i < value.length; i++) {
          if (i > 0) out += ','
          out = write(value[i] as PyJson, out)
        }
        return `${out}]`
      }
      const keys = sortedKeys(value)
      out += '{'
      for (let i = 0; i < keys.length; i++) {
        const key = keys[i]!
        if (i > 0) out += ','
        out += `${quotePyString(key)}:`
        out = write(value[key] as PyJson, out)
      }
      return `${out}}`
    }
    default:
      throw new TypeError(`cannot serialize a ${typeof value} as JSON`)
  }
}

export interface ParsePyJsonOptions {
  /** Refuse input longer than this many bytes (UTF-8). Default: 1 MiB, the largest block. */
  maxBytes?: number
  /** Refuse arrays and objects nested deeper than this. Default: 64. */
  maxDepth?: number
}

export const DEFAULT_MAX_JSON_BYTES = 1_048_576
export const DEFAULT_MAX_JSON_DEPTH = 64

/**
 * Parses JSON as Python's `json.loads` does (NaN and ±Infinity accepted,
 * control characters inside strings refused), keeping ints and floats apart:
 * a literal with `.`, `e` or `E` becomes a {@link PyFloat}; an int beyond
 * 2^53 becomes a `bigint`. Unlike Python, a repeated object key is refused
 * ({@link DuplicateEntryError}): Python silently keeps the last one, which
 * would let a hostile bundle show different content to different readers.
 * Anything malformed is an {@link InvalidBundleError}.
 */
export function parsePyJson(input: string | Uint8Array, options: ParsePyJsonOptions = {}): PyJson {
  const maxBytes = options.maxBytes ?? DEFAULT_MAX_JSON_BYTES
  const size = typeof input === 'string' ? Buffer.byteLength(input, 'utf8') : input.byteLength
  if (size > maxBytes) {
    throw new InvalidBundleError(`JSON of ${size} bytes exceeds the limit of ${maxBytes}`)
  }
  let text: string
  if (typeof input === 'string') {
    text = input
  } else {
    const bytes = Buffer.from(input.buffer, input.byteOffset, input.byteLength)
    // Bundles are ASCII in practice; latin1 decoding of ASCII is a plain copy.
    if (isAscii(bytes)) text = bytes.toString('latin1')
    else if (isUtf8(bytes)) text = bytes.toString('utf8')
    else throw new InvalidBundleError('JSON is not valid UTF-8')
  }
  const parser = new Parser(text, options.maxDepth ?? DEFAULT_MAX_JSON_DEPTH)
  return parser.parseDocument()
}

const HEX4 = /^[0-9a-fA-F]{4}$/

function skipDigits(text: string, from: number): number {
  let i = from
  for (let c = text.charCodeAt(i); c >= 0x30 && c <= 0x39; c = text.charCodeAt(++i));
  return i
}

class Parser {
  readonly text: string
  readonly maxDepth: number
  pos = 0
  depth = 0

  constructor(text: string, maxDepth: number) {
    this.text = text
    this.maxDepth = maxDepth
  }

  parseDocument(): PyJson {
    const value = this.parseValue()
    this.skipWhitespace()
    if (this.pos !== this.text.length) throw this.error('unexpected data after the JSON value')
    return value
  }

  parseValue(): PyJson {
    this.skipWhitespace()
    const c = this.text.charCodeAt(this.pos)
    switch (c) {
      case 0x7b: // {
        return this.parseObject()
      case 0x5b: // [
        return this.parseArray()
      case 0x22: // "
        return this.parseString()
      case 0x74: // t
        return this.literal('true', true)
      case 0x66: // f
        return this.literal('false', false)
      case 0x6e: // n
        return this.literal('null', null)
      case 0x4e: // N
        return this.literal('NaN', new PyFloat(Number.NaN))
      case 0x49: // I
        return this.literal('Infinity', new PyFloat(Number.POSITIVE_INFINITY))
      default:
        if (c === 0x2d && this.text.startsWith('-Infinity', this.pos)) {
          return this.literal('-Infinity', new PyFloat(Number.NEGATIVE_INFINITY))
        }
        if (c === 0x2d || (c >= 0x30 && c <= 0x39)) return this.parseNumber()
        throw this.error(Number.isNaN(c) ? 'unexpected end of JSON' : 'expected a JSON value')
    }
  }

  literal<T extends PyJson>(word: string, value: T): T {
    if (!this.text.startsWith(word, this.pos)) throw this.error('expected a JSON value')
    this.pos += word.length
    return value
  }

  parseNumber(): number | bigint | PyFloat {
    const text = this.text
    const start = this.pos
    let i = start
    if (text.charCodeAt(i) === 0x2d) i++
    const first = text.charCodeAt(i)
    if (first === 0x30) {
      i++
    } else if (first >= 0x31 && first <= 0x39) {
      i = skipDigits(text, i + 1)
    } else {
      throw this.error('malformed number')
    }
    let float = false
    if (text.charCodeAt(i) === 0x2e) {
      const end = skipDigits(text, i + 1)
      if (end === i + 1) {
        this.pos = i
        throw this.error('malformed number')
      }
      i = end
      float = true
    }
    const e = text.charCodeAt(i)
    if (e === 0x65 || e === 0x45) {
      let j = i + 1
      const sign = text.charCodeAt(j)
      if (sign === 0x2b || sign === 0x2d) j++
      const end = skipDigits(text, j)
      // Python reads `1e` as the int 1 followed by garbage; either way the document is refused.
      if (end === j) {
        this.pos = i
        throw this.error('malformed number')
      }
      i = end
      float = true
    }
    this.pos = i
    const literal = text.slice(start, i)
    if (float) return new PyFloat(Number(literal))
    const value = Number(literal)
    if (Number.isSafeInteger(value)) return value === 0 ? 0 : value
    return BigInt(literal)
  }

  parseString(): string {
    const text = this.text
    let i = this.pos + 1
    let from = i
    let out = ''
    for (;;) {
      const c = text.charCodeAt(i)
      if (c === 0x22) {
        this.pos = i + 1
        return out + text.slice(from, i)
      }
      if (c === 0x5c) {
        out += text.slice(from, i)
        const e = text.charCodeAt(i + 1)
        switch (e) {
          case 0x22:
            out += '"'
            break
          case 0x5c:
            out += '\\'
            break
          case 0x2f:
            out += '/'
            break
          case 0x62:
            out += '\b'
            break
          case 0x66:
            out += '\f'
            break
          case 0x6e:
            out += '\n'
            break
          case 0x72:
            out += '\r'
            break
          case 0x74:
            out += '\t'
            break
          case 0x75: {
            const hex = text.slice(i + 2, i + 6)
            if (!HEX4.test(hex)) {
              this.pos = i
              throw this.error('malformed \\u escape')
            }
            out += String.fromCharCode(Number.parseInt(hex, 16))
            i += 4
            break
          }
          default:
            this.pos = i
            throw this.error('invalid escape in string')
        }
        i += 2
        from = i
        continue
      }
      if (c < 0x20 || Number.isNaN(c)) {
        this.pos = i
        throw this.error(Number.isNaN(c) ? 'unterminated string' : 'control character in string')
      }
      i++
    }
  }

  parseArray(): PyJson[] {
    this.enter()
    this.pos++
    const array: PyJson[] = []
    this.skipWhitespace()
    if (this.text.charCodeAt(this.pos) === 0x5d) {
      this.pos++
      this.depth--
      return array
    }
    for (;;) {
      array.push(this.parseValue())
      this.skipWhitespace()
      const c = this.text.charCodeAt(this.pos++)
      if (c === 0x5d) break
      if (c !== 0x2c) {
        this.pos--
        throw this.error("expected ',' or ']'")
      }
    }
    this.depth--
    return array
  }

  parseObject(): PyObject {
    this.enter()
    this.pos++
    const object: PyObject = {}
    this.skipWhitespace()
    if (this.text.charCodeAt(this.pos) === 0x7d) {
      this.pos++
      this.depth--
      return object
    }
    for (;;) {
      this.skipWhitespace()
      if (this.text.charCodeAt(this.pos) !== 0x22) throw this.error('expected a string key')
      const keyAt = this.pos
      const key = this.parseString()
      this.skipWhitespace()
      if (this.text.charCodeAt(this.pos) !== 0x3a) throw this.error("expected ':'")
      this.pos++
      const value = this.parseValue()
      if (Object.hasOwn(object, key)) {
        throw new DuplicateEntryError(`duplicate JSON key ${quotePyString(key)} at offset ${keyAt}`)
      }
      setPyKey(object, key, value)
      this.skipWhitespace()
      const c = this.text.charCodeAt(this.pos++)
      if (c === 0x7d) break
      if (c !== 0x2c) {
        this.pos--
        throw this.error("expected ',' or '}'")
      }
    }
    this.depth--
    return object
  }

  enter(): void {
    if (++this.depth > this.maxDepth) throw this.error(`nested deeper than ${this.maxDepth} levels`)
  }

  skipWhitespace(): void {
    const text = this.text
    let i = this.pos
    for (;;) {
      const c = text.charCodeAt(i)
      if (c !== 0x20 && c !== 0x0a && c !== 0x0d && c !== 0x09) break
      i++
    }
    this.pos = i
  }

  error(reason: string): InvalidBundleError {
    return new InvalidBundleError(`invalid JSON at offset ${this.pos}: ${reason}`)
  }
}
