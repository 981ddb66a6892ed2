#!/usr/bin/env node
// The entry point is plain JavaScript so that starting needs no type stripping at all: every
// TypeScript module then comes from Node's compile cache, in this thread and, through
// NODE_COMPILE_CACHE (which workers inherit), in every worker. Without it each run stripped the
// types of every module again in each thread: most of a short command's start-up. The cache lives
// in the system's temporary directory and is checked against each source file.
import { enableCompileCache } from 'node:module'

const { directory } = enableCompileCache()
if (directory !== undefined) process.env.NODE_COMPILE_CACHE ??= directory

await import('../src/bin/libernet.ts')
