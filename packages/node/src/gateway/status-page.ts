import type { NodeStatus, PeerStatus, SnapshotStatus } from '../status.ts'
import { escapeHtml, formatBytes, PAGE_STYLE } from './html.ts'

const DISCOVERY_LABEL: Record<PeerStatus['discoveredBy'], string> = {
  mdns: 'mDNS (LAN)',
  dht: 'DHT',
  bootstrap: 'bootstrap',
  inbound: 'inbound',
}

/**
 * The status page: plain server-rendered HTML that refreshes itself every
 * ten seconds, so it works with JavaScript off. Every value is escaped: peer
 * ids, addresses and folder names come from outside.
 */
export function renderStatusPage(status: NodeStatus, options: { gateway?: string; now?: Date } = {}): string {
  const now = options.now ?? new Date()
  const nodeId =
    status.peerId === '' ? '<span class="muted">no node running (local store only)</span>' : code(status.peerId)
  const gateway = options.gateway ?? status.gateway
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="refresh" content="10">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Libernet node status</title>
<style>${PAGE_STYLE}</style>
</head>
<body>
<h1>Libernet node</h1>
<table id="node">
<tr><th>Node id</th><td>${nodeId}</td></tr>
<tr><th>Addresses</th><td>${status.addresses.length === 0 ? '<span class="muted">none</span>' : status.addresses.map(code).join('<br>')}</td></tr>
${gateway === undefined ? '' : `<tr><th>Gateway</th><td>${code(gateway)}</td></tr>`}
<tr><th>Started</th><td>${escapeHtml(status.startedAt)}</td></tr>
<tr><th>Replicas wanted</th><td>${status.replicas}</td></tr>
</table>
${renderPeers(status.peers)}
${renderStorage(status)}
${renderSnapshots(status.snapshots, status.replicas)}
<p class="muted">Updated ${escapeHtml(now.toISOString())}; this page refreshes itself every 10 seconds. Also as <a href="/metrics">Prometheus metrics</a>.</p>
</body>
</html>
`
}

function renderPeers(peers: PeerStatus[]): string {
  const heading = `<h2 id="peers-heading"><span id="peer-count">${peers.length} ${peers.length === 1 ? 'peer' : 'peers'}</span> connected</h2>`
  const rows = peers
    .map(
      (
        peer,
      ) => `<tr class="peer"><td>${code(peer.id)}</td><td>${escapeHtml(DISCOVERY_LABEL[peer.discoveredBy] ?? String(peer.discoveredBy))}</td>
<td>${peer.addresses.map(code).join('<br>')}</td><td class="num">${peer.latencyMs === undefined ? '' : `${Math.round(peer.latencyMs)} ms`}</td><td class="num">${peer.replicasHeld}</td></tr>`,
    )
    .join('\n')
  const empty = peers.length === 0 ? '<tr><td colspan="5" class="muted">No peers connected.</td></tr>' : ''
  return `${heading}
<table id="peers">
<thead><tr><th>Peer</th><th>Found by</th><th>Addresses</th><th class="num">Latency</th><th class="num">Replicas held</th></tr></thead>
<tbody>
${rows}${empty}
</tbody>
</table>`
}

function renderStorage(status: NodeStatus): string {
  const { storage } = status
  const quota = storage.quotaBytes === null ? 'unlimited' : formatBytes(storage.quotaBytes)
  const cached = storage.usedBytes - storage.pinnedBytes
  const share =
    storage.quotaBytes === null || storage.quotaBytes === 0
      ? ''
      : ` (${((100 * cached) / storage.quotaBytes).toFixed(1)} % of the quota)`
  return `<h2>Storage</h2>
<table id="storage">
<tr><th>Used</th><td>${formatBytes(storage.usedBytes)} in ${storage.blocks} blocks</td></tr>
<tr><th>Own backups (pinned)</th><td>${formatBytes(storage.pinnedBytes)}</td></tr>
<tr><th>Kept for others</th><td>${formatBytes(cached)}${share}</td></tr>
<tr><th>Quota for others</th><td>${quota}</td></tr>
</table>`
}

function renderSnapshots(snapshots: SnapshotStatus[], replicas: number): string {
  if (snapshots.length === 0) return '<h2>Snapshots</h2>\n<p class="muted" id="snapshots">No pinned snapshots.</p>'
  const rows = snapshots
    .map((snapshot) => {
      const health = replicationHealth(snapshot, replicas)
      const { replication } = snapshot
      return `<tr class="snapshot"><td>${escapeHtml(snapshot.folder)}</td><td>${escapeHtml(snapshot.time)}</td>
<td><a class="mono" href="${escapeHtml(`${snapshot.url}/`)}">${escapeHtml(shorten(snapshot.url))}</a></td>
<td class="num">${replication.blocks}</td><td class="num">${replication.replicated}</td><td class="num">${replication.underReplicated}</td>
<td class="num">${replication.localOnly}</td><td class="${health.className}">${health.label}</td></tr>`
    })
    .join('\n')
  return `<h2>Snapshots</h2>
<table id="snapshots">
<thead><tr><th>Folder</th><th>Time</th><th>URL</th><th class="num">Blocks</th><th class="num">Replicated</th><th class="num">Under-replicated</th><th class="num">Only here</th><th>Health</th></tr></thead>
<tbody>
${rows}
</tbody>
</table>`
}

function replicationHealth(snapshot: SnapshotStatus, replicas: number): { label: string; className: string } {
  const { replication } = snapshot
  if (replication.blocks > 0 && replication.replicated === replication.blocks) {
    return { label: `healthy (≥ ${replicas} replicas)`, className: 'ok' }
  }
  if (replication.localOnly > 0) return { label: `${replication.localOnly} blocks only on this node`, className: 'bad' }
  return { label: `under-replicated (min ${replication.minReplicas})`, className: 'warn' }
}

function code(text: string): string {
  return `<code>${escapeHtml(text)}</code>`
}

function shorten(url: string): string {
  return url.length > 48 ? `${url.slice(0, 30)}…${url.slice(-12)}` : url
}
