/**
 * Gateway benchmark: a 100 MiB file backed up into a temporary repository,
 * then read through the HTTP gateway (GET, streamed to curl, a separate
 * process as a browser would be) against reading the original file with
 * fs.createReadStream, in the same run, alternating, several rounds.
 * Both come from the page cache (the file and the blocks were just written).
 *
 *   node bench/gateway/run.ts [--size MiB] [--rounds N]
 *
 * Two more references in the same rounds show where the time goes: the
 * engine alone (the same file's parts decoded through the worker pool, no
 * HTTP), and a bare node:http server streaming that same engine output to
 * curl (what any HTTP layer costs, with none of the gateway's own work).
 * Also time to first byte through the gateway: for the large file, for a
 * small file and for a range in the middle of the large file.
 */
import { execFile, execFileSync } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { createReadStream, createWriteStream, mkdirSync, mkdtempSync, rmSync } from 'node:fs'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { cpus, loadavg, tmpdir } from 'node:os'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { parseArgs, promisify } from 'node:util'
import { type BundleFile, parseBundle } from '@libernet/core'
import { median } from '../median.ts'

// The node package is not a dependency of the workspace root, and importing its
// sources from here crosses project references: its modules are loaded by path,
// typed by the little this benchmark uses of them.
interface Repo {
  store: unknown
  pool: unknown
  snapshots: unknown
  close(): Promise<void>
}
interface Content {
  store: unknown
  pool: unknown
}
interface NodeModules {
  backup(folder: string, options: { store: unknown; pool: unknown; snapshots: unknown }): Promise<{ url: string }>
  openRepo(dataDir: string): Promise<Repo>
  fileContents(context: Content, file: BundleFile): AsyncIterable<Uint8Array>
  loadPlaintext(context: Content, url: string): Promise<Uint8Array>
  localGatewayBackend(repo: Repo): unknown
  startGateway(options: {
    backend: unknown
    port: number
    offline: boolean
  }): Promise<{ url: string; close(): Promise<void> }>
}
const nodeModule = async (path: string): Promise<Partial<NodeModules>> =>
  import(pathToFileURL(join(import.meta.dirname, '../../packages/node/src', path)).href)
const { backup, fileContents, loadPlaintext, localGatewayBackend, openRepo, startGateway } = Object.assign(
  {},
  await nodeModule('backup/backup.ts'),
  await nodeModule('content.ts'),
  await nodeModule('gateway/index.ts'),
  await nodeModule('repo.ts'),
) as NodeModules

const { values } = parseArgs({
  options: { size: { type: 'string', default: '100' }, rounds: { type: 'string', default: '5' } },
})
const SIZE = Number(values.size) * 1024 * 1024
const ROUNDS = Number(values.rounds)
const MB = 1e6

async function writeRandomFile(path: string, size: number): Promise<void> {
  const out = createWriteStream(path)
  for (let written = 0; written < size; written += 1 << 20) {
    if (!out.write(randomBytes(Math.min(1 << 20, size - written))))
      await new Promise<void>((resolve) => out.once('drain', () => resolve()))
  }
  await new Promise<void>((resolve, reject) => out.end((err?: Error | null) => (err ? reject(err) : resolve())))
}

async function rawRead(path: string): Promise<number> {
  const started = performance.now()
  let bytes = 0
  for await (const chunk of createReadStream(path, { highWaterMark: 1 << 20 })) bytes += (chunk as Buffer).byteLength
  if (bytes !== SIZE) throw new Error(`read ${bytes} bytes, expected ${SIZE}`)
  return (performance.now() - started) / 1000
}

interface CurlRun {
  seconds: number
  firstByte: number
  bytes: number
  status: number
}

/** curl, not an in-process client: the gateway's event loop and workers get the cores a real client leaves them. */
async function curl(url: string, headers: string[] = []): Promise<CurlRun> {
  const format = '%{http_code} %{size_download} %{time_starttransfer} %{time_total}'
  const args = ['-s', '-o', '/dev/null', '-w', format, ...headers.flatMap((header) => ['-H', header]), url]
  // Asynchronous: the gateway runs in this process and must keep serving while curl waits.
  const { stdout } = await promisify(execFile)('curl', args, { encoding: 'utf8' })
  const [status, bytes, firstByte, total] = stdout.trim().split(' ').map(Number)
  return { status: status!, bytes: bytes!, firstByte: firstByte!, seconds: total! }
}

const work = mkdtempSync(join(tmpdir(), 'libernet-bench-gateway-'))
try {
  const folder = join(work, 'site')
  mkdirSync(folder)
  const original = join(folder, 'big.bin')
  await writeRandomFile(original, SIZE)
  execFileSync('sh', ['-c', `printf 'hello\\n' > ${JSON.stringify(join(folder, 'small.txt'))}`])

  const repo = await openRepo(join(work, 'data'))
  const { url } = await backup(folder, { store: repo.store, pool: repo.pool, snapshots: repo.snapshots })
  const gateway = await startGateway({ backend: localGatewayBackend(repo), port: 0, offline: true })
  const fileUrl = `${gateway.url}${url}/big.bin`
  const context = { store: repo.store, pool: repo.pool }
  const file = parseBundle(await loadPlaintext(context, url)).files.get('big.bin')!

  const engineRead = async (): Promise<number> => {
    const started = performance.now()
    let bytes = 0
    for await (const chunk of fileContents(context, file)) bytes += chunk.byteLength
    if (bytes !== SIZE) throw new Error(`decoded ${bytes} bytes, expected ${SIZE}`)
    return (performance.now() - started) / 1000
  }

  const bare = createServer(async (_req, res) => {
    res.writeHead(200, { 'content-length': String(SIZE) })
    for await (const chunk of fileContents(context, file)) {
      if (!res.write(chunk)) await new Promise<void>((resolve) => res.once('drain', () => resolve()))
    }
    res.end()
  })
  await new Promise<void>((resolve) => bare.listen(0, '127.0.0.1', resolve))
  const bareUrl = `http://127.0.0.1:${(bare.address() as AddressInfo).port}/`

  // One untimed pass of each warms the page cache, the workers and the JIT.
  await rawRead(original)
  await engineRead()
  await curl(fileUrl)

  const raw: number[] = []
  const engine: number[] = []
  const bareRuns: number[] = []
  const gatewayRuns: CurlRun[] = []
  const ratios: number[] = []
  const load: number[] = []
  for (let round = 0; round < ROUNDS; round++) {
    load.push(loadavg()[0]!)
    const rawSeconds = await rawRead(original)
    const run = await curl(fileUrl)
    if (run.status !== 200 || run.bytes !== SIZE)
      throw new Error(`gateway answered ${run.status} with ${run.bytes} bytes`)
    engine.push(await engineRead())
    bareRuns.push((await curl(bareUrl)).seconds)
    raw.push(rawSeconds)
    gatewayRuns.push(run)
    ratios.push(rawSeconds / run.seconds)
    console.log(
      `round ${round + 1}: raw ${(SIZE / rawSeconds / MB).toFixed(0)} MB/s, gateway ${(SIZE / run.seconds / MB).toFixed(0)} MB/s (${((100 * rawSeconds) / run.seconds).toFixed(0)} %), ttfb ${(run.firstByte * 1000).toFixed(1)} ms`,
    )
  }
  const small: CurlRun[] = []
  const middle: CurlRun[] = []
  for (let i = 0; i < 9; i++) {
    small.push(await curl(`${gateway.url}${url}/small.txt`))
    middle.push(await curl(fileUrl, [`Range: bytes=${SIZE / 2}-${SIZE / 2 + 65535}`]))
  }
  if (middle.some((run) => run.status !== 206 || run.bytes !== 65536)) throw new Error('range request failed')

  const rawMBs = SIZE / median(raw) / MB
  const gatewayMBs = SIZE / median(gatewayRuns.map((run) => run.seconds)) / MB
  const engineMBs = SIZE / median(engine) / MB
  const bareMBs = SIZE / median(bareRuns) / MB
  console.log(
    `\n${SIZE / 1048576} MiB file, ${ROUNDS} rounds, ${cpus().length} cores, load average ${load.map((l) => l.toFixed(2)).join(' ')}`,
  )
  console.log('\n| path | MB/s (median) | vs raw read |')
  console.log('| --- | ---: | ---: |')
  console.log(`| raw disk read (fs.createReadStream, page cache) | ${rawMBs.toFixed(0)} | 100 % |`)
  console.log(
    `| engine alone (fileContents, no HTTP) | ${engineMBs.toFixed(0)} | ${((100 * engineMBs) / rawMBs).toFixed(0)} % |`,
  )
  console.log(
    `| bare node:http streaming the engine → curl | ${bareMBs.toFixed(0)} | ${((100 * bareMBs) / rawMBs).toFixed(0)} % |`,
  )
  console.log(`| gateway GET → curl | ${gatewayMBs.toFixed(0)} | ${((100 * gatewayMBs) / rawMBs).toFixed(0)} % |`)
  console.log(`\nmedian of per-round ratios gateway/raw: ${(100 * median(ratios)).toFixed(0)} %`)
  console.log('\n| time to first byte (median) | ms |')
  console.log('| --- | ---: |')
  console.log(
    `| ${SIZE / 1048576} MiB file, GET | ${(1000 * median(gatewayRuns.map((run) => run.firstByte))).toFixed(1)} |`,
  )
  console.log(`| 64 KiB range in its middle | ${(1000 * median(middle.map((run) => run.firstByte))).toFixed(1)} |`)
  console.log(`| small file (6 B) | ${(1000 * median(small.map((run) => run.firstByte))).toFixed(1)} |`)
  bare.close()
  await gateway.close()
  await repo.close()
} finally {
  rmSync(work, { recursive: true, force: true })
}
