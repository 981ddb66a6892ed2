const HELP = `libernet — distributed, encrypted backups on community-shared disk space

Usage: libernet <command> [options]

Commands:
  start            run the node and its HTTP gateway
  backup DIR       back up a folder, print its URL
  restore URL DIR  restore a backup into DIR
  ls URL           list a bundle
  cat URL          print a block or a file in a bundle
  put FILE         store one file, print its URL
  get URL [OUT]    fetch one file
  check            verify the store and every pinned snapshot
  peers            list connected peers
  status           show the node's status
  like ID          blocks whose ids are closest to ID

Options:
  --data DIR       data directory (default ~/.libernet, or LIBERNET_DATA)
  -h, --help       show this help
`

/** Runs the CLI; resolves to the process exit code. */
export async function main(argv: string[]): Promise<number> {
  const [command] = argv
  if (command === undefined || command === 'help' || command === '--help' || command === '-h') {
    process.stdout.write(HELP)
    return 0
  }
  process.stderr.write(`libernet: '${command}' is not available yet in this version\n\n${HELP}`)
  return 64
}
