/**
 * The like suffix: 0x00 followed by non-zero bytes, appended to make a block's
 * id land near a target (DESIGN §2 "Rendezvous"). Because the bytes after the
 * separator are never zero, the last 0x00 always marks where it starts.
 */

export const LIKE_SEPARATOR = 0x00

/** `bytes` without its like suffix, or `undefined` when there is no 0x00 to strip from. */
export function withoutLikeSuffix(bytes: Uint8Array): Uint8Array | undefined {
  const separator = bytes.lastIndexOf(LIKE_SEPARATOR)
  return separator === -1 ? undefined : bytes.subarray(0, separator)
}
