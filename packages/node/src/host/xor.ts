import { type BlockId, idToBytes, sha256 } from '@libernet/core'
import type { PeerId } from '@libp2p/interface'

/** A peer's position in the id space, as Kademlia places it: sha256 of its multihash. */
export function peerKey(peer: PeerId): Uint8Array {
  return sha256(peer.toMultihash().bytes)
}

/** Orders peers by XOR distance between their key and the block id, closest first. */
export function closestPeers(id: BlockId, peers: Iterable<PeerId>): PeerId[] {
  const target = idToBytes(id)
  return [...peers]
    .map((peer) => ({ peer, key: peerKey(peer) }))
    .sort((a, b) => compareDistance(a.key, b.key, target))
    .map(({ peer }) => peer)
}

function compareDistance(a: Uint8Array, b: Uint8Array, target: Uint8Array): number {
  for (let at = 0; at < target.length; at++) {
    const difference = (a[at]! ^ target[at]!) - (b[at]! ^ target[at]!)
    if (difference !== 0) return difference
  }
  return 0
}
