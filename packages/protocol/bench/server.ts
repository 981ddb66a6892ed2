/**
 * Benchmark server, run as a child process by run.ts:
 *
 *   node server.ts libernet|helia COUNT SIZE SEED
 *
 * libernet: one libp2p node (TCP on 127.0.0.1, noise, yamux) serving the
 * blocks over /libernet/block/1.0.0, and the same bytes as one raw stream
 * over RAW_PROTOCOL for the ceiling. helia: a Helia node on the same stack
 * serving the same blocks over bitswap. Runs until stdin closes or SIGTERM.
 */
import { noise } from '@chainsafe/libp2p-noise'
import { yamux } from '@chainsafe/libp2p-yamux'
import { withBitswap } from '@helia/bitswap'
import { withLibp2pLight } from '@helia/libp2p'
import { idToCid } from '@libernet/core'
import { identify } from '@libp2p/identify'
import type { Stream } from '@libp2p/interface'
import { tcp } from '@libp2p/tcp'
import { MemoryBlockstore } from 'blockstore-core/memory'
import { createHeliaLight } from 'helia'
import { createLibp2p } from 'libp2p'
import { blockProtocol } from '../src/service.ts'
import type { BlockSource } from '../src/store.ts'
import { makeBlocks, RAW_PROTOCOL, type ServerReady } from './blocks.ts'

const [mode, countArg, sizeArg, seed = 'libernet'] = process.argv.slice(2)
const blocks = makeBlocks(Number(countArg), Number(sizeArg), seed)
const byId = new Map(blocks.map((block) => [block.id, block.bytes]))
const listen = { addresses: { listen: ['/ip4/127.0.0.1/tcp/0'] } }

let stop: () => Promise<void>
let addresses: string[]

if (mode === 'libernet') {
  const source: BlockSource = {
    has: (id) => byId.has(id),
    get: (id) => byId.get(id),
  }
  const node = await createLibp2p({
    ...listen,
    transports: [tcp()],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux()],
    services: { blocks: blockProtocol({ source }) },
  })
  await node.handle(RAW_PROTOCOL, (stream) => sendRaw(stream), { maxInboundStreams: 4 })
  addresses = node.getMultiaddrs().map(String)
  stop = async () => {
    await node.stop()
  }
} else if (mode === 'helia') {
  const blockstore = new MemoryBlockstore()
  for (const block of blocks) await blockstore.put(idToCid(block.id), block.bytes)
  const helia = withBitswap(
    withLibp2pLight(createHeliaLight({ blockstore }), {
      ...listen,
      transports: [tcp()],
      connectionEncrypters: [noise()],
      streamMuxers: [yamux()],
      services: { identify: identify() },
    }),
  )
  await helia.start()
  addresses = helia.libp2p.getMultiaddrs().map(String)
  stop = async () => {
    await helia.stop()
  }
} else {
  throw new Error(`unknown mode ${mode}`)
}

/** The ceiling: every block's bytes back to back, nothing else, honouring backpressure. */
async function sendRaw(stream: Stream): Promise<void> {
  try {
    for (const block of blocks) {
      if (!stream.send(block.bytes)) await stream.onDrain()
    }
    await stream.close()
  } catch (err) {
    stream.abort(err as Error)
  }
}

const ready: ServerReady = { ready: true, addresses, ids: blocks.map((block) => block.id) }
process.stdout.write(`${JSON.stringify(ready)}\n`)

let stopping = false
async function shutdown(): Promise<void> {
  if (stopping) return
  stopping = true
  await stop()
  process.exit(0)
}
process.on('SIGTERM', () => void shutdown())
process.stdin.on('end', () => void shutdown())
process.stdin.resume()
