import type { ResourceLimits } from 'node:worker_threads'

/**
 * Heap limits of the threads that encode or decode blocks (a backup's ingest
 * workers, a restore's sink workers). Their messages and results are garbage
 * within milliseconds and the blocks themselves live outside V8's heap, yet
 * V8 sized each one's young generation for the allocation rate, several MiB
 * of memory touched for the first time (page faults) in every worker. Three
 * MiB cost a few more scavenges, each of almost nothing. Restores of the
 * backup benchmark (five alternating rounds): 1.53-1.78 s against
 * 1.67-2.17 s, 25,600-26,600 page faults against 30,500-35,800, peak RSS
 * 145-148 MiB against 164-183. Backups (four rounds): as fast, 32,800-33,900
 * page faults against 37,200-41,600, peak RSS 163-166 MiB against 177-191.
 */
export const BLOCK_WORKER_LIMITS: ResourceLimits = { maxYoungGenerationSizeMb: 3 }
