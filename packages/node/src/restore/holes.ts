/**
 * Parts that are all zeros are not written: the file is sized at the end
 * and the file system leaves a hole there (a sparse file stays sparse).
 */
const ZEROS = new Uint8Array(64 * 1024)

export function isAllZero(bytes: Uint8Array): boolean {
  for (let offset = 0; offset < bytes.byteLength; offset += ZEROS.byteLength) {
    const slice = bytes.subarray(offset, offset + ZEROS.byteLength)
    if (Buffer.compare(slice, ZEROS.subarray(0, slice.byteLength)) !== 0) return false
  }
  return true
}
