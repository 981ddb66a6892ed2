export { CodecPool, type CodecPoolOptions, type DecodeHints, type TaskOptions } from './pool.ts'
export { decodeStoredFile } from './read-stored-file.ts'
export type { StoredFile } from './tasks.ts'
