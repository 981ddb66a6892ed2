export {
  type Bundle,
  type BundleEra,
  type BundleFile,
  type BundlePart,
  countParts,
  createBundle,
  type DirectoryEntry,
} from './model.ts'
export { bundleFromPyJson, type ParseBundleOptions, parseBundle } from './parse.ts'
export {
  type BundleFileEntry,
  DEFAULT_MAX_SUB_BUNDLES,
  iterateBundleFiles,
  type LoadSubBundle,
  mergeBundle,
  type ReadBundleOptions,
} from './read.ts'
export { bundleToPyJson, fileToPyJson, serializeBundle, serializeFileEntry } from './serialize.ts'
export { type EncodeSubBundle, type SplitBundleOptions, type SplitBundleResult, splitBundle } from './split.ts'
export {
  assertBlockUrl,
  assertLinkTarget,
  assertSafePath,
  assertSize,
  EntryTracker,
  MAX_PART_SIZE,
  validateBundle,
  validateFile,
} from './validate.ts'
