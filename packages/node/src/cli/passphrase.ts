import { createInterface } from 'node:readline/promises'
import { Writable } from 'node:stream'
import { InvalidArgumentError } from '../errors.ts'

/**
 * The passphrase for `--user`: `LIBERNET_PASSPHRASE` (or `--passphrase`),
 * else asked on the terminal without echo. Without a terminal there is no
 * one to ask, which is a usage error rather than a hang.
 */
export async function passphraseFor(user: string, given: string | undefined, signal: AbortSignal): Promise<string> {
  if (given !== undefined && given !== '') return given
  if (process.stdin.isTTY !== true || process.stderr.isTTY !== true) {
    throw new InvalidArgumentError(
      `--user ${user} needs a passphrase: set LIBERNET_PASSPHRASE (or --passphrase), or run in a terminal to be asked`,
    )
  }
  let muted = false
  const echo = new Writable({
    write(chunk: Buffer, _encoding, done) {
      if (!muted) process.stderr.write(chunk)
      done()
    },
  })
  const terminal = createInterface({ input: process.stdin, output: echo, terminal: true })
  try {
    const question = terminal.question(`passphrase for ${user}: `, { signal })
    muted = true
    const answer = await question
    process.stderr.write('\n')
    if (answer === '') throw new InvalidArgumentError('an empty passphrase protects nothing')
    return answer
  } finally {
    terminal.close()
  }
}
