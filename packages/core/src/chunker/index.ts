export {
  chunkFastCdc,
  DEFAULT_FASTCDC_PARAMS,
  type FastCdcOptions,
  type FastCdcParams,
  fastCdcParams,
  findCutPoint,
} from './fastcdc.ts'
export { chunkFixed, type FixedChunkerOptions, fixedChunkSize } from './fixed.ts'
export { gearTable } from './gear.ts'
