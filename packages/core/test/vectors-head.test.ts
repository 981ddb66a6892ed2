import { describeVectors } from './fixtures/describe-vectors.ts'

describeVectors('head')
