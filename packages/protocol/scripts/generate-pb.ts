/**
 * Regenerates src/pb/message.ts from src/pb/message.proto with protons.
 *
 * protons emits one `namespace` per message, which Node's type stripping and
 * `erasableSyntaxOnly` refuse. The codec code itself is plain TypeScript, so
 * each namespace is rewritten into an object of the same name (value and
 * interface share the name, exactly as namespace merging did), and its event
 * interfaces move to the top level. Nothing inside the codecs changes.
 *
 *   pnpm --filter @libernet/protocol generate     rewrite the committed file
 *   node scripts/generate-pb.ts --check           exit 1 when it is stale
 */
import { spawnSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'

const packageRoot = resolve(import.meta.dirname, '..')
export const PROTO_FILE = join(packageRoot, 'src/pb/message.proto')
export const GENERATED_FILE = join(packageRoot, 'src/pb/message.ts')

const HEADER = `// Generated from message.proto by scripts/generate-pb.ts (protons, namespaces rewritten as objects). Do not edit.
// biome-ignore-all lint: generated code
`

/** Runs protons on the schema and returns the erasable, formatted TypeScript. */
export function generate(): string {
  const scratch = mkdtempSync(join(tmpdir(), 'libernet-protons-'))
  try {
    run(join(packageRoot, 'node_modules/.bin/protons'), ['--strict', '--output', scratch, PROTO_FILE])
    const emitted = readFileSync(join(scratch, 'message.ts'), 'utf8')
    return format(HEADER + rewriteNamespaces(emitted))
  } finally {
    rmSync(scratch, { recursive: true, force: true })
  }
}

/**
 * `export namespace X { ...members }` becomes the members' interfaces at top
 * level plus `export const X = (() => { ...rest; return { codec, encode, decode, stream } })()`.
 */
export function rewriteNamespaces(source: string): string {
  const lines = source.split('\n')
  const out: string[] = []
  for (let i = 0; i < lines.length; i++) {
    const opening = /^export namespace (\w+) \{$/.exec(lines[i] ?? '')
    if (opening === null) {
      out.push(lines[i] ?? '')
      continue
    }
    const name = opening[1] ?? ''
    const end = lines.indexOf('}', i)
    if (end < 0) throw new Error(`unterminated namespace ${name}`)
    const body = lines.slice(i + 1, end).map((line) => (line.startsWith('  ') ? line.slice(2) : line))
    const hoisted: string[] = []
    const kept: string[] = []
    const exported: string[] = []
    for (let j = 0; j < body.length; j++) {
      const line = body[j] ?? ''
      if (
        line.startsWith('export interface ') ||
        line.startsWith('export enum ') ||
        line.startsWith('export namespace ')
      ) {
        if (!line.startsWith('export interface '))
          throw new Error(`${name}: enums and nested messages are not supported`)
        const close = body.indexOf('}', j)
        hoisted.push(...body.slice(j, close + 1), '')
        j = close
        continue
      }
      const member = /^export (?:const|function) (\w+)/.exec(line)
      if (member !== null) exported.push(member[1] ?? '')
      kept.push(line.replace(/^export /, ''))
    }
    out.push(...hoisted)
    out.push(`export const ${name} = (() => {`, ...kept, `return { ${exported.join(', ')} }`, '})()')
    i = end
  }
  return out.join('\n')
}

function format(source: string): string {
  return run(
    join(packageRoot, '../../node_modules/.bin/biome'),
    ['check', '--write', `--stdin-file-path=${GENERATED_FILE}`],
    source,
  )
}

function run(command: string, args: string[], input?: string): string {
  const result = spawnSync(command, args, { encoding: 'utf8', input, cwd: packageRoot })
  if (result.status !== 0) {
    throw new Error(`${command} ${args.join(' ')} failed: ${result.stderr || result.stdout}`)
  }
  return result.stdout
}

if (import.meta.main) {
  const text = generate()
  if (process.argv.includes('--check')) {
    if (readFileSync(GENERATED_FILE, 'utf8') !== text) {
      console.error(`${GENERATED_FILE} is stale: run node scripts/generate-pb.ts`)
      process.exit(1)
    }
  } else {
    writeFileSync(GENERATED_FILE, text)
  }
}
