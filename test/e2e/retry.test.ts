// The widget's Retry on a send that timed out after the relay had stored it: the message is shown as
// "Not confirmed yet…" (not "Not sent": the SDK keeps it queued), and it is stored once, shown once,
// and the other members see it once (the SDK resends it with its first id).

import { existsSync } from 'node:fs'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { resolve } from 'node:path'
import { createRelay, type Relay } from '@confab/relay'
import { type Client, connect, type Message } from '@confab/sdk'
import type { Browser } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import WebSocket from 'ws'
import { ARTIFACTS, launchChromium } from '../support/browser'
import { chromiumMissing } from '../support/env'
import { type FaultProxy, startFaultProxy } from '../support/fault-proxy'

const skip = chromiumMissing()
const BUNDLE = resolve(__dirname, '../../packages/widget/dist/widget.js')

/** Milliseconds: the relay's heartbeat (the SDK's probe after a late ack finds the black hole sooner). */
const HEARTBEAT = 6_000
/** Milliseconds the page's SDK waits for an ack: far below the heartbeat. */
const SEND_TIMEOUT = 300

/** Loads widget.js from the relay, gives the SDK a short sendTimeout, then mounts an inline widget. */
const page = (
  relay: string,
  via: string,
) => `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Retry</title></head><body>
<script>
  document.addEventListener('confab-ready', () => {
    const Chat = customElements.get('confab-chat')
    const connect = Chat.connect
    Chat.connect = (url, options) => connect(url, { ...options, sendTimeout: ${SEND_TIMEOUT} })
    const el = document.createElement('confab-chat')
    Object.assign(el, { relay: '${via}', room: 'retry', name: 'Ada', mode: 'inline' })
    document.body.append(el)
  })
</script>
<script src="${relay}/widget.js" async></script>
</body></html>`

describe.skipIf(skip)('widget retry against a real relay', () => {
  let browser: Browser
  let relay: Relay
  let proxy: FaultProxy
  let host: Server
  let bob: Client

  beforeAll(async () => {
    if (!existsSync(BUNDLE)) throw new Error(`${BUNDLE} is missing: run \`npm run build\` first`)
    relay = await createRelay({
      port: 0,
      host: '127.0.0.1',
      logger: false,
      shutdownTimeout: 1000,
      heartbeat: HEARTBEAT,
    })
    await relay.start()
    proxy = await startFaultProxy({ port: Number(new URL(relay.url).port) })
    host = createServer((_, res) => res.writeHead(200, { 'content-type': 'text/html' }).end(page(relay.url, proxy.url)))
    await new Promise<void>((done) => host.listen(0, '127.0.0.1', done))
    browser = await launchChromium()
  })

  afterAll(async () => {
    bob?.close()
    await browser?.close()
    await proxy?.close()
    await new Promise((done) => host?.close(done))
    await relay?.stop()
  })

  it('a Retry after a lost ack neither stores nor shows the message twice', async () => {
    bob = connect(relay.url, { name: 'Bob', WebSocket })
    const atBob: Message[] = []
    const room = bob.join('retry')
    room.on('message', (m) => atBob.push(m))
    const context = await browser.newContext()
    context.setDefaultTimeout(10_000)
    const tab = await context.newPage()
    const w = (selector: string) => tab.locator(`confab-chat ${selector}`)
    try {
      await tab.goto(`http://127.0.0.1:${(host.address() as AddressInfo).port}/`)
      await w('[part=presence]').filter({ hasText: '2 online' }).waitFor()

      // Ada's publish reaches the relay; its ack never comes back. New connections are refused, so
      // the SDK's own resend (after its probe drops the dead link) waits until Retry was clicked.
      proxy.refuse(true)
      proxy.blackhole('down')
      await w('[part=input]').fill('only once')
      await w('[part=input]').press('Enter')
      await w('[part~=message-unconfirmed]').filter({ hasText: 'Not confirmed yet…' }).waitFor()
      expect(await w('.failed').count()).toBe(0)
      await expect.poll(() => atBob.map((m) => m.text), { timeout: 5_000 }).toEqual(['only once']) // stored all the same
      await w('[part=retry-button]').click()
      proxy.refuse(false)

      // Ada's SDK reconnects, resends with the first id (deduplicated by the relay) and resumes; Bob then says something.
      await w('.msg')
        .filter({ hasText: 'only once' })
        .and(tab.locator(':not(.failed):not(.pending):not(.unconfirmed)'))
        .waitFor({
          timeout: HEARTBEAT + 5_000,
        })
      await room.send('after')
      await w('.msg').filter({ hasText: 'after' }).waitFor()
      expect(await w('.msg').allTextContents()).toHaveLength(2)
      expect(await w('.msg').filter({ hasText: 'only once' }).count()).toBe(1)
      expect(await w('.failed, .pending, .unconfirmed').count()).toBe(0)
      expect(atBob.map((m) => m.text)).toEqual(['only once', 'after'])
    } catch (error) {
      await tab.screenshot({ path: `${ARTIFACTS}widget-retry.png` })
      throw error
    } finally {
      await context.close()
    }
  })
})
