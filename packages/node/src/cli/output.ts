import { createRequire } from 'node:module'
import type { SingleBar } from 'cli-progress'
import { formatBytes, formatDuration } from '../util/format.ts'

/** Where output goes: process.stdout/stderr, or any writable (tests) that may say it is a terminal. */
export type OutputStream = NodeJS.WritableStream & { isTTY?: boolean }

export interface OutputOptions {
  /** One JSON object on stdout instead of text. */
  json: boolean
  /** No progress bar and no informational lines, only results and problems. */
  quiet: boolean
  stdout?: OutputStream
  stderr?: OutputStream
}

/**
 * Everything the CLI prints goes through here: results on stdout (text, or
 * one JSON object with `--json`), warnings and errors on stderr, and a
 * progress bar on stderr only when it is a terminal.
 */
export class Output {
  readonly json: boolean
  readonly quiet: boolean
  readonly stdout: OutputStream
  readonly stderr: OutputStream
  #bar: ProgressBar | undefined

  constructor(options: OutputOptions) {
    this.json = options.json
    this.quiet = options.quiet
    this.stdout = options.stdout ?? process.stdout
    this.stderr = options.stderr ?? process.stderr
  }

  /** Whether a progress bar may be drawn. */
  get interactive(): boolean {
    return !this.json && !this.quiet && this.stderr.isTTY === true
  }

  /** One line of progress on a terminal, rewritten in place; `undefined` clears it. */
  status(text: string | undefined): void {
    if (!this.interactive) return
    this.stderr.write(text === undefined ? '\r\x1b[K' : `\r\x1b[K${text}`)
  }

  /** A line of the human-readable result (not printed with `--json`). */
  line(text = ''): void {
    if (this.json) return
    this.#write(this.stdout, `${text}\n`)
  }

  /** Informational chatter (not printed with `--json` or `--quiet`). */
  info(text: string): void {
    if (this.json || this.quiet) return
    this.#write(this.stderr, `${text}\n`)
  }

  warn(text: string): void {
    this.#write(this.stderr, `libernet: warning: ${text}\n`)
  }

  error(text: string): void {
    this.#write(this.stderr, `libernet: ${text}\n`)
  }

  /** Indented lines under an error or warning, on stderr. */
  list(items: readonly string[]): void {
    if (items.length > 0) this.#write(this.stderr, items.map((item) => `  ${item}\n`).join(''))
  }

  /** The machine-readable result: one JSON object, one line. */
  result(value: unknown): void {
    if (!this.json) return
    this.#write(this.stdout, `${JSON.stringify(value)}\n`)
  }

  /** Starts a progress bar if stderr is a terminal; `sample` is read a few times a second. */
  progress(label: string, sample: () => ProgressSample): { stop(): void } {
    if (!this.interactive) return { stop() {} }
    const bar = new ProgressBar(label, sample, this.stderr)
    this.#bar = bar
    return {
      stop: () => {
        bar.stop()
        this.#bar = undefined
      },
    }
  }

  #write(stream: OutputStream, text: string): void {
    if (this.#bar !== undefined && stream === this.stderr) this.#bar.clearLine()
    stream.write(text)
  }
}

export interface ProgressSample {
  /** Bytes done and expected (expected may grow while the work is discovered). */
  bytes: number
  totalBytes?: number
  files: number
  totalFiles?: number
}

class ProgressBar {
  readonly #bar: SingleBar
  readonly #timer: NodeJS.Timeout
  readonly #sample: () => ProgressSample
  readonly #started = performance.now()
  readonly #stream: OutputStream

  constructor(label: string, sample: () => ProgressSample, stream: OutputStream) {
    this.#sample = sample
    this.#stream = stream
    // Loaded only when a bar is shown (on a terminal): its 16 modules are not worth loading otherwise.
    const { SingleBar: Bar } = createRequire(import.meta.url)('cli-progress') as typeof import('cli-progress')
    this.#bar = new Bar({
      stream,
      format: `${label} {bar} {percentage}% | {done} / {total_bytes} | {files} files | {speed} | ETA {eta_text}`,
      barsize: 24,
      hideCursor: true,
      clearOnComplete: true,
      fps: 5,
      barCompleteChar: '█',
      barIncompleteChar: '░',
    })
    this.#bar.start(1, 0, this.#payload())
    this.#timer = setInterval(() => this.#update(), 200)
    this.#timer.unref()
  }

  clearLine(): void {
    this.#stream.write('\r\x1b[K')
  }

  stop(): void {
    clearInterval(this.#timer)
    this.#update()
    this.#bar.stop()
  }

  #update(): void {
    const sample = this.#sample()
    const total = Math.max(sample.totalBytes ?? 0, sample.bytes, 1)
    this.#bar.setTotal(total)
    this.#bar.update(sample.bytes, this.#payload())
  }

  #payload(): Record<string, string> {
    const sample = this.#sample()
    const seconds = (performance.now() - this.#started) / 1000
    const rate = seconds > 0 ? sample.bytes / seconds : 0
    const remaining = sample.totalBytes !== undefined ? Math.max(0, sample.totalBytes - sample.bytes) : Number.NaN
    return {
      done: formatBytes(sample.bytes),
      total_bytes: sample.totalBytes !== undefined ? formatBytes(sample.totalBytes) : '?',
      files: sample.totalFiles !== undefined ? `${sample.files}/${sample.totalFiles}` : String(sample.files),
      speed: `${(rate / 1e6).toFixed(1)} MB/s`,
      eta_text: rate > 0 ? formatDuration(remaining / rate) : '?',
    }
  }
}
