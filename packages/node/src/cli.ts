import { AbortError } from '@libernet/core'
import { Command, CommanderError, Option } from 'commander'
import type { BackupCommandOptions } from './cli/backup.ts'
import { createContext, type GlobalOptions } from './cli/context.ts'
import { describeError, exitCodeOf } from './cli/errors.ts'
import { EXIT, EXIT_CODES_HELP, type ExitCode } from './cli/exit-codes.ts'
import { Output, type OutputStream } from './cli/output.ts'
import type { RestoreCommandOptions } from './cli/restore.ts'
import type { StartCommandOptions } from './cli/start.ts'
import { InvalidArgumentError } from './errors.ts'

export interface MainOptions {
  stdout?: OutputStream
  stderr?: OutputStream
  /** Aborts the running command (the binary wires Ctrl-C to it). */
  signal?: AbortSignal
}

const collect = (value: string, previous: string[] = []): string[] => [...previous, value]

/** Runs the `libernet` CLI; resolves to the process exit code. */
export async function main(argv: string[], options: MainOptions = {}): Promise<number> {
  const stdout = options.stdout ?? process.stdout
  const stderr = options.stderr ?? process.stderr
  const signal = options.signal ?? new AbortController().signal
  let code: ExitCode = EXIT.ok
  let context: ReturnType<typeof createContext> | undefined

  const program = new Command('libernet')
  program
    .description('Distributed, encrypted backups on community-shared disk space')
    .addOption(new Option('--data <dir>', 'data directory (default: $LIBERNET_DATA, else ~/.libernet)'))
    .option('--json', 'print one JSON object with the result on stdout')
    .option('-q, --quiet', 'no progress bar and no informational messages')
    .addHelpText('after', `\n${EXIT_CODES_HELP}`)
    .showHelpAfterError('(run libernet --help for usage)')
    .exitOverride()
    .configureOutput({
      writeOut: (text) => stdout.write(text),
      writeErr: (text) => stderr.write(text),
    })

  type Context = ReturnType<typeof createContext>
  // Commander calls an action with the declared arguments, the options, then the Command itself.
  const run =
    (action: (context: Context, args: unknown[]) => Promise<ExitCode>) =>
    async (...args: unknown[]): Promise<void> => {
      const globals = program.opts<GlobalOptions>()
      const output = new Output({ json: globals.json === true, quiet: globals.quiet === true, stdout, stderr })
      context = createContext(output, globals, signal)
      code = await action(context, args.slice(0, -1))
    }

  program
    .command('backup')
    .description('back up a folder (incremental against its last snapshot) and print its URL')
    .argument('<dir>', 'folder to back up')
    .option('-e, --exclude <glob>', 'leave out matching paths (repeatable; "*.tmp", "build/", "src/**/*.o")', collect)
    .option('--full', 'read every file, ignoring the previous snapshot')
    .addOption(
      new Option('--passphrase <text>', 'encrypt the snapshot root with a passphrase').env('LIBERNET_PASSPHRASE'),
    )
    .option('--user <name>', 'also write your backup index, to find this backup by name and passphrase anywhere')
    .option('--machine <name>', "this machine's name in the index (default: the host name)")
    .action(
      run(async (ctx, [dir, opts]) =>
        (await import('./cli/backup.ts')).backupCommand(dir as string, opts as BackupCommandOptions, ctx),
      ),
    )

  program
    .command('restore')
    .description('restore a snapshot (or a folder or file inside it) into a directory')
    .usage('[options] <url> <dir>\n       libernet restore --user <name> [--machine M] [--folder F] <dir>')
    .argument('<url>', 'snapshot URL, optionally with a path inside it (with --user: the target directory)')
    .argument('[dir]', 'target directory (created if needed)')
    .option('--verify', 'also check the content of files that look up to date')
    .option('--fsync', 'fsync each file before it is renamed into place (survives a power cut; slower)')
    .option('--external-links', 'recreate symlinks that point outside DIR instead of refusing the restore')
    .option('--user <name>', "find the snapshots by user name and passphrase (the backup's --user)")
    .addOption(
      new Option('--passphrase <text>', 'the passphrase for --user (else asked without echo)').env(
        'LIBERNET_PASSPHRASE',
      ),
    )
    .option('--machine <name>', 'with --user: only this machine (default: every machine)')
    .option('--folder <path>', 'with --user: only this folder (default: every folder)')
    .option('--months <n>', 'with --user: how many months back to look (default 12)')
    .action(
      run(async (ctx, [url, dir, opts]) => {
        const options = opts as RestoreCommandOptions
        const { restoreCommand, restoreUserCommand } = await import('./cli/restore.ts')
        if (options.user !== undefined) {
          if (dir !== undefined) throw new InvalidArgumentError('with --user, give only the target directory')
          return restoreUserCommand(url as string, { ...options, user: options.user }, ctx)
        }
        if (dir === undefined) throw new InvalidArgumentError('restore needs a URL and a target directory')
        return restoreCommand(url as string, dir as string, options, ctx)
      }),
    )

  program
    .command('ls')
    .description('list a snapshot: files with sizes and dates, empty directories, links')
    .argument('<url>', 'snapshot URL, optionally with a path inside it')
    .action(run(async (ctx, [url]) => (await import('./cli/ls.ts')).lsCommand(url as string, ctx)))

  program
    .command('cat')
    .description('print a file of a snapshot, or a block')
    .argument('<url>', 'file URL (snapshot URL + path), content URL or /sha256/{id}')
    .action(run(async (ctx, [url]) => (await import('./cli/cat.ts')).catCommand(url as string, ctx)))

  program
    .command('put')
    .description('store one file and print its URL')
    .argument('<file>')
    .action(run(async (ctx, [file]) => (await import('./cli/put.ts')).putCommand(file as string, ctx)))

  program
    .command('get')
    .description('fetch one file into OUT (default: its name in the current directory; - for stdout)')
    .argument('<url>')
    .argument('[out]')
    .action(
      run(async (ctx, [url, out]) =>
        (await import('./cli/cat.ts')).getCommand(url as string, out as string | undefined, ctx),
      ),
    )

  program
    .command('check')
    .description('verify the store and every recorded snapshot')
    .option('--read-data', 'also decrypt every block of every snapshot')
    .action(
      run(async (ctx, [opts]) => (await import('./cli/check.ts')).checkCommand(opts as { readData?: boolean }, ctx)),
    )

  program
    .command('snapshots')
    .description('backup history, per folder')
    .argument('[dir]', 'only this folder')
    .action(
      run(async (ctx, [dir]) => (await import('./cli/snapshots.ts')).snapshotsCommand(dir as string | undefined, ctx)),
    )

  program
    .command('import')
    .description('import blocks from a directory (flat, or a store of the original Python Libernet), verifying each')
    .argument('<path>')
    .action(run(async (ctx, [path]) => (await import('./cli/import.ts')).importCommand(path as string, ctx)))

  program
    .command('start')
    .description('run the node and its HTTP gateway (until Ctrl-C / SIGTERM)')
    .option('--listen <multiaddr>', 'address to listen on (repeatable; default /ip4/0.0.0.0/tcp/4042)', collect)
    .option('--bootstrap <multiaddr>', 'peer to connect to at start, with its /p2p/ id (repeatable)', collect)
    .option('--no-mdns', 'do not look for peers on the LAN')
    .option('--quota <size>', 'disk space kept for others, e.g. 20GB (default: no bound)')
    .option('--replicas <n>', 'copies of each of your blocks kept on other nodes (default 3)')
    .option('--gateway-host <host>', 'HTTP gateway address (default 127.0.0.1)')
    .option('--gateway-port <port>', 'HTTP gateway port (default 8042; 0 picks a free one)')
    .option('--no-gateway', 'do not run the HTTP gateway')
    .action(run(async (ctx, [opts]) => (await import('./cli/start.ts')).startCommand(opts as StartCommandOptions, ctx)))

  program
    .command('peers')
    .description('list connected peers and how they were found (needs a running node)')
    .action(run(async (ctx) => (await import('./cli/network.ts')).peersCommand(ctx)))

  program
    .command('status')
    .description("the node's peers, storage and replication health per snapshot (needs a running node)")
    .action(run(async (ctx) => (await import('./cli/network.ts')).statusCommand(ctx)))

  program
    .command('providers')
    .description('peers the DHT names as holders of a block (needs a running node)')
    .argument('<id>', 'block id (64 hex digits)')
    .option('--timeout <seconds>', 'how long to search (default 10)')
    .action(
      run(async (ctx, [id, opts]) =>
        (await import('./cli/network.ts')).providersCommand(id as string, opts as { timeout?: string }, ctx),
      ),
    )

  program
    .command('like')
    .description('blocks whose ids share the most leading bits with ID')
    .argument('<id>', 'target id (64 hex digits)')
    .option('--limit <n>', 'most matches shown (default 20)')
    .action(
      run(async (ctx, [id, opts]) =>
        (await import('./cli/network.ts')).likeCommand(id as string, opts as { limit?: string }, ctx),
      ),
    )

  try {
    if (argv.length === 0) {
      program.outputHelp()
      return EXIT.ok
    }
    await program.parseAsync(argv, { from: 'user' })
  } catch (err) {
    code = exitCodeOf(err)
    if (!(err instanceof CommanderError)) {
      const message = err instanceof AbortError ? 'interrupted' : describeError(err)
      stderr.write(`libernet: ${message}\n`)
      if (code === EXIT.error && process.env.LIBERNET_DEBUG !== undefined && err instanceof Error) {
        stderr.write(`${err.stack}\n`)
      }
    }
  } finally {
    await context?.close()
  }
  return code
}
