#!/usr/bin/env node
// The entry point is plain JavaScript so that starting needs no type stripping at all: every
// TypeScript module then comes from Node's compile cache, in this thread and, through
// NODE_COMPILE_CACHE (which workers inherit), in every worker. Without it each run stripped the
// types of every module again in each thread: most of a short command's start-up. The cache lives
// in the system's temporary directory and is checked against each source file.
import { enableCompileCache } from 'node:module'
import { setFlagsFromString } from 'node:v8'

// The workers that encode and decode blocks collect their garbage themselves, which takes V8's
// --expose-gc. V8 checks every cached module against a hash of its flags: set first, here, the flag
// is the same for every module of every thread in every run. Set later, by the first worker, it
// changed under the modules still loading, and their cache entries, written under the other flags,
// were refused and compiled again (85 of 330 modules in a backup).
setFlagsFromString('--expose-gc')

const { directory } = enableCompileCache()
if (directory !== undefined) process.env.NODE_COMPILE_CACHE ??= directory

await import('../src/bin/libernet.ts')
