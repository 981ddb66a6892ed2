import { describeVectors } from './fixtures/describe-vectors.ts'

describeVectors('f09f918')
