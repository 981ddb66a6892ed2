export * from './constants.ts'
export * from './errors.ts'
export * from './id.ts'
export * from './url.ts'
