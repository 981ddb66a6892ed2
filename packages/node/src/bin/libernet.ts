import { main } from '../cli.ts'

// Ctrl-C cancels the command cleanly (temporary files removed, exit 130); a second one exits at once.
const controller = new AbortController()
process.on('SIGINT', () => {
  if (controller.signal.aborted) process.exit(130)
  controller.abort(new Error('interrupted'))
})
process.on('SIGTERM', () => controller.abort(new Error('terminated')))

// `libernet ls URL | head` closes stdout early: that is not an error.
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code === 'EPIPE') process.exit(process.exitCode ?? 0)
  throw err
})

const code = await main(process.argv.slice(2), { signal: controller.signal })
// The command has finished and closed what it opened; exiting now leaves the heaps to the kernel instead of
// freeing them first (tens of milliseconds after a backup). Standard output is synchronous on pipes and files.
process.exit(code)
