import assert from 'node:assert/strict'
import { existsSync } from 'node:fs'
import { type Browser, chromium } from 'playwright-core'

/** Debian's Chromium: the browser tests drive the system's own, never a downloaded one. */
export const CHROMIUM = '/usr/bin/chromium'

/**
 * Headless Chromium with the flags this machine needs (no sandbox as root, no
 * GPU, no background connections, which the closed network refuses). A
 * missing browser fails the test with what to install: the bar is a real
 * browser, so it is never a skip.
 */
export async function launchChromium(): Promise<Browser> {
  assert.ok(existsSync(CHROMIUM), `${CHROMIUM} is missing: install Debian's chromium (apt-get install -y chromium)`)
  return chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
    ],
    timeout: 30_000,
  })
}
