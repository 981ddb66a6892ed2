/**
 * Exit codes scripts can rely on. Documented in `libernet --help` and the
 * package README; never renumber one.
 */
export const EXIT = Object.freeze({
  /** Everything was done. */
  ok: 0,
  /** Something failed (I/O, a bad URL, an unexpected error). */
  error: 1,
  /** Bad command line. */
  usage: 2,
  /** Done, but some files were skipped or changed while read (the summary lists them). */
  partial: 3,
  /** Blocks needed are missing from the store (listed on stderr). */
  missingBlocks: 4,
  /** Verification failed: a wrong key, a corrupt block or bundle, a hostile bundle. */
  verification: 5,
  /** The command needs a running node (`libernet start`) on the data directory, and none answers. */
  nodeUnavailable: 6,
  /** Interrupted (Ctrl-C / SIGINT), as shells report it. */
  interrupted: 130,
})

export type ExitCode = (typeof EXIT)[keyof typeof EXIT]

export const EXIT_CODES_HELP = `Exit codes:
  0    success
  1    error
  2    usage error
  3    partial: some files were skipped or changed while read (see the summary)
  4    blocks are missing from the store (they are listed)
  5    verification failed: wrong key, corrupt or hostile data
  6    needs a running node (libernet start) and none answers
  130  interrupted
`
