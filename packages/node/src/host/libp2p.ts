import { noise } from '@chainsafe/libp2p-noise'
import { yamux } from '@chainsafe/libp2p-yamux'
import { type BlockProtocol, type BlockSource, blockProtocol, type Limits } from '@libernet/protocol'
import { bootstrap } from '@libp2p/bootstrap'
import { type Identify, identify } from '@libp2p/identify'
import type { PeerDiscovery, PrivateKey } from '@libp2p/interface'
import { type KadDHT, kadDHT, passthroughMapper } from '@libp2p/kad-dht'
import { mdns } from '@libp2p/mdns'
import { type Ping, ping } from '@libp2p/ping'
import { tcp } from '@libp2p/tcp'
import { createLibp2p, type Libp2p } from 'libp2p'

/** Kademlia of Libernet nodes only: a node never joins (or answers for) the IPFS DHT. */
export const DHT_PROTOCOL = '/libernet/kad/1.0.0'
/** mDNS service name: Libernet nodes answer each other, not every libp2p node on the LAN. */
export const MDNS_SERVICE_TAG = '_libernet._udp.local'

export interface HostServices extends Record<string, unknown> {
  identify: Identify
  ping: Ping
  dht: KadDHT
  blocks: BlockProtocol
  mdns?: PeerDiscovery
  bootstrap?: PeerDiscovery
}

export type Host = Libp2p<HostServices>

export interface HostInit {
  privateKey: PrivateKey
  listen: string[]
  bootstrap: string[]
  mdns: boolean
  /** What the block protocol serves and where offered blocks go. */
  source: BlockSource
  limits?: Partial<Limits>
  /** Seconds between mDNS queries. */
  mdnsInterval?: number
}

/**
 * The libp2p host of a node (DESIGN §4): TCP + noise + yamux, identify,
 * ping, the Libernet DHT in server mode with LAN addresses kept, the block
 * protocol, and the discovery the user asked for. Nothing else: no relay,
 * no UPnP, no AutoNAT, no public bootstrap list.
 */
export async function createHost(init: HostInit): Promise<Host> {
  const services = {
    identify: identify(),
    ping: ping(),
    dht: kadDHT({
      protocol: DHT_PROTOCOL,
      clientMode: false,
      // LAN and loopback addresses are how Libernet nodes usually reach each other.
      peerInfoMapper: passthroughMapper,
      logPrefix: 'libernet:dht',
      datastorePrefix: '/libernet-dht',
    }),
    blocks: blockProtocol({ source: init.source, limits: init.limits }),
    ...(init.mdns ? { mdns: mdns({ serviceTag: MDNS_SERVICE_TAG, interval: (init.mdnsInterval ?? 5) * 1000 }) } : {}),
    ...(init.bootstrap.length > 0 ? { bootstrap: bootstrap({ list: init.bootstrap, timeout: 100 }) } : {}),
  }
  return (await createLibp2p({
    privateKey: init.privateKey,
    addresses: { listen: init.listen },
    transports: [tcp()],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux()],
    services,
    start: false,
  })) as Host
}
