import { InvalidKeyError } from '../errors.ts'
import type { BlockId } from '../id.ts'
import { decodeConvergent } from './convergent.ts'
import { decodePassphrase } from './passphrase.ts'
import { decodePlain } from './plain.ts'
import type { BlockMode } from './types.ts'

/**
 * Decodes a block of any mode, as its URL describes it (`key` for the
 * encrypted modes). `size`: the plaintext length expected, a hint (see
 * {@link DecodeOptions}). `storedChecked`: the caller checked the stored
 * bytes already (against a CRC-32 recorded when a put verified them), so a
 * convergent block's are not hashed against the id again; its plaintext
 * must still hash to the key. Other modes check the id whatever it says.
 * `reuse`: the plaintext may lie in a buffer the thread reuses (see
 * {@link DecodeOptions}).
 */
export function decodeBlock(
  mode: BlockMode,
  stored: Uint8Array,
  id: BlockId,
  key?: BlockId,
  options: { mined?: boolean; size?: number; reuse?: boolean; storedChecked?: boolean } = {},
): Uint8Array {
  const mined = options.mined === true
  const { size, reuse } = options
  switch (mode) {
    case 'plain':
      return decodePlain(stored, id, { mined, size, reuse })
    case 'convergent':
      return decodeConvergent(stored, requireKey(mode, key), {
        ...(options.storedChecked === true ? {} : { id }),
        mined,
        size,
        reuse,
      })
    case 'passphrase':
      return decodePassphrase(stored, requireKey(mode, key), { id, mined })
    default:
      throw new TypeError(`unknown block mode ${JSON.stringify(mode)}`)
  }
}

function requireKey(mode: BlockMode, key: BlockId | undefined): BlockId {
  if (key === undefined) throw new InvalidKeyError(`a ${mode} block needs a key`)
  return key
}
