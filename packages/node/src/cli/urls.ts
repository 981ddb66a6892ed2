import { type ContentUrl, InvalidUrlError, parseUrl } from '@libernet/core'

/** A URL that names encrypted content (a bundle, or a file in one). */
export function requireContentUrl(text: string): ContentUrl {
  const parsed = parseUrl(text)
  if (parsed.kind !== 'content') {
    throw new InvalidUrlError(`expected a snapshot or file URL (/sha256/{id}/aes256/{key}[/path]), got ${text}`)
  }
  return parsed
}
