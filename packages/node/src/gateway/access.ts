import { isIP } from 'node:net'

/** True for 127.0.0.0/8, ::1 and their IPv4-mapped forms: a client on this machine. */
export function isLoopbackAddress(address: string | undefined): boolean {
  if (address === undefined) return false
  const bare = address.toLowerCase().replace(/^::ffff:/, '')
  if (isIP(bare) === 4) return bare.startsWith('127.')
  return bare === '::1' || bare === '0:0:0:0:0:0:0:1'
}

/**
 * True when a Host header names this machine by a loopback name or address
 * (or the name the gateway was bound to). A page on another site that
 * re-resolves its own name to 127.0.0.1 (DNS rebinding) reaches the gateway
 * from loopback, but with its own name in Host: private endpoints refuse it.
 */
export function isLoopbackHost(host: string | undefined, boundHost: string): boolean {
  if (host === undefined || host === '') return false
  const name = hostnameOf(host)
  if (name === 'localhost' || name.endsWith('.localhost')) return true
  if (name === boundHost.toLowerCase()) return true
  return isLoopbackAddress(name)
}

function hostnameOf(host: string): string {
  const lower = host.toLowerCase()
  if (lower.startsWith('[')) return lower.slice(1, lower.indexOf(']') === -1 ? undefined : lower.indexOf(']'))
  const colon = lower.lastIndexOf(':')
  return colon === -1 ? lower : lower.slice(0, colon)
}
