import type { Relay } from '@confab/relay'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startRelay } from './helpers'

let relay: Relay
let bare: Relay
beforeAll(async () => {
  relay = await startRelay()
  bare = await startRelay({ widget: false })
})
afterAll(async () => {
  await Promise.all([relay.stop(), bare.stop()])
})

describe('/locales/*', () => {
  it("serves the widget's bundled locales beside /widget.js, to any origin", async () => {
    const res = await fetch(`${relay.url}/locales/ar.json`)
    expect(res.status).toBe(200)
    expect(res.headers.get('content-type')).toBe('application/json; charset=utf-8')
    expect(res.headers.get('access-control-allow-origin')).toBe('*')
    expect((await res.json()).send).toBe('إرسال')
    expect((await (await fetch(`${relay.url}/locales/ja.json`)).json()).send).toBe('送信')
  })

  it('answers 404 for a language it does not ship and for anything but a language tag', async () => {
    for (const path of ['xx.json', 'ar.js', '..%2Fwidget.js', 'AR.json', 'ar.json.bak']) {
      expect((await fetch(`${relay.url}/locales/${path}`)).status, path).toBe(404)
    }
  })

  it('is not served when the relay does not serve the widget', async () => {
    expect((await fetch(`${bare.url}/locales/ar.json`)).status).toBe(404)
  })
})
