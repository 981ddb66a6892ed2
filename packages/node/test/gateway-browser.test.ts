import assert from 'node:assert/strict'
import { mkdirSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { encodeSegment } from '@libernet/core'
import type { Browser, Page } from 'playwright-core'
import { type Gateway, localGatewayBackend, startGateway } from '../src/gateway/index.ts'
import { launchChromium } from './chromium.ts'
import { createFixture, type Fixture, WEIRD_NAME } from './gateway-fixture.ts'

/** Screenshots for people to look at, kept after the run. */
const ARTIFACTS = resolve(import.meta.dirname, '../../../test-artifacts/gateway')

describe('a web bundle in a real browser (headless Chromium)', () => {
  let fixture: Fixture
  let gateway: Gateway
  let browser: Browser | undefined
  let page: Page

  before(async () => {
    mkdirSync(ARTIFACTS, { recursive: true })
    fixture = await createFixture('gateway-browser', 64 * 1024)
    gateway = await startGateway({ backend: localGatewayBackend(fixture.repo), port: 0, offline: true })
    browser = await launchChromium()
    page = await browser.newPage({ viewport: { width: 1000, height: 700 } })
    page.setDefaultTimeout(15_000)
  })

  after(async () => {
    await browser?.close()
    await gateway?.close()
    await fixture?.cleanup()
  })

  it('opens the backed-up site from its URL: image loaded, stylesheet applied', async () => {
    // The bundle's own URL, without the trailing slash, as `libernet backup` prints it.
    const response = await page.goto(`${gateway.url}${fixture.url}`)
    assert.equal(response?.status(), 200)
    assert.equal(page.url(), `${gateway.url}${fixture.url}/`)
    assert.equal(await page.title(), 'Libernet web bundle')
    await page.waitForFunction('document.getElementById("logo").complete')
    assert.equal(await page.evaluate('document.getElementById("logo").naturalWidth'), 16)
    assert.equal(await page.evaluate('document.getElementById("logo").naturalHeight'), 8)
    assert.equal(await page.evaluate('getComputedStyle(document.getElementById("title")).color'), 'rgb(12, 34, 56)')
    assert.equal(await page.evaluate('getComputedStyle(document.body).backgroundColor'), 'rgb(250, 240, 230)')
    await page.screenshot({ path: join(ARTIFACTS, 'web-bundle-index.png') })
  })

  it('follows a relative link to a page in a subdirectory, whose ../ links work too', async () => {
    await page.goto(`${gateway.url}${fixture.url}/`)
    await Promise.all([page.waitForURL(/\/pages\/second\.html$/), page.click('#next')])
    assert.equal(await page.textContent('#second'), 'Second page')
    await page.waitForFunction('document.getElementById("logo2").complete')
    assert.ok(((await page.evaluate('document.getElementById("logo2").naturalWidth')) as number) > 0)
    assert.equal(await page.evaluate('getComputedStyle(document.getElementById("second")).color'), 'rgb(12, 34, 56)')
    await page.screenshot({ path: join(ARTIFACTS, 'web-bundle-second.png') })
    await Promise.all([page.waitForURL(/\/index\.html$/), page.click('#back')])
    assert.equal(await page.textContent('#title'), 'Hello from a bundle')
  })

  it('browses a directory listing and opens a file with an awkward name', async () => {
    await page.goto(`${gateway.url}${fixture.url}/docs`)
    assert.equal(page.url(), `${gateway.url}${fixture.url}/docs/`)
    assert.equal(await page.textContent('h1'), 'Index of /docs/')
    await page.screenshot({ path: join(ARTIFACTS, 'listing.png') })
    await Promise.all([page.waitForURL(`**/docs/${encodeSegment(WEIRD_NAME)}`), page.click(`text=${WEIRD_NAME}`)])
    assert.equal((await page.textContent('body'))?.trim(), 'weird')
  })

  it("runs a bundle's scripts in an opaque origin: they cannot read the status page or PUT blocks", async () => {
    await page.goto(`${gateway.url}${fixture.url}/probe.html`)
    await page.waitForFunction('document.title === "done"')
    assert.equal(await page.textContent('#result'), 'status:rejected put:rejected origin:null')
  })

  it('shows the status page with its peer list, without JavaScript', async () => {
    const context = await browser!.newContext({ javaScriptEnabled: false })
    try {
      const statusPage = await context.newPage()
      const response = await statusPage.goto(`${gateway.url}/`)
      assert.equal(response?.status(), 200)
      assert.equal(await statusPage.title(), 'Libernet node status')
      assert.equal(await statusPage.textContent('#peer-count'), '0 peers')
      assert.ok(await statusPage.isVisible('table#peers'))
      assert.match((await statusPage.textContent('table#peers')) ?? '', /No peers connected/)
      assert.match((await statusPage.textContent('table#snapshots')) ?? '', /only on this node/)
      await statusPage.screenshot({ path: join(ARTIFACTS, 'status.png'), fullPage: true })
    } finally {
      await context.close()
    }
  })
})
