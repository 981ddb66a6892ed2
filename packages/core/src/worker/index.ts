export { CodecPool, type CodecPoolOptions, type TaskOptions } from './pool.ts'
