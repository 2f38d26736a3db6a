// examples/support against the real relay with CONFAB_JWT_SECRET: its visitor token opens a private conversation,
// its operator token (after the staff password) is an operator that sees it, and a wrong password gets nothing.
import type { AddressInfo } from 'node:net'
import type { Relay } from '@confab/relay'
import { connect } from '@confab/sdk'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import WebSocket from 'ws'
// @ts-expect-error: the example is plain JavaScript without declarations
import { start } from '../../examples/support/server.mjs'
import { startRelay } from '../../packages/widget/test/browser/support'

const SECRET = 'support-example-secret-0123456789abcdef'

describe('examples/support', () => {
  let relay: Relay
  let site: { close(): void; address(): AddressInfo }
  let url: string

  beforeAll(async () => {
    relay = await startRelay({ auth: { secret: SECRET } })
    site = await start({ secret: SECRET, staffPassword: 'letmein', relay: relay.url, port: 0 })
    url = `http://127.0.0.1:${site.address().port}`
  })

  afterAll(async () => {
    site?.close()
    await relay?.stop()
  })

  const signIn = (password: string): Promise<Response> =>
    fetch(`${url}/operator`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ name: 'Ana', password }),
    })

  it('mints a visitor token into the page, keeps the visitor id in a cookie, and an operator token after sign-in', async () => {
    const first = await fetch(`${url}/`)
    const cookie = first.headers.get('set-cookie')!.split(';')[0]!
    const page = await first.text()
    expect(page).toContain('data-conversation')
    const token = /data-token="([^"]+)"/.exec(page)![1]!
    // The same browser (cookie) is the same visitor: the same conversation on every visit.
    const again = await (await fetch(`${url}/`, { headers: { cookie } })).text()
    const sub = (t: string) => JSON.parse(Buffer.from(t.split('.')[1]!, 'base64url').toString()).sub
    expect(sub(/data-token="([^"]+)"/.exec(again)![1]!)).toBe(sub(token))

    expect((await signIn('wrong')).status).toBe(403)
    const inbox = await (await signIn('letmein')).text()
    expect(inbox).toContain('/inbox.js')
    const operatorToken = /token="([^"]+)"/.exec(inbox)![1]!

    const visitor = connect(relay.url, { token, WebSocket })
    const operator = connect(relay.url, { token: operatorToken, WebSocket })
    try {
      const room = await visitor.conversation()
      await room.send('Where is my order?')
      if (operator.status !== 'open')
        await new Promise<void>((done) => operator.on('status', (s) => s === 'open' && done()))
      expect(operator.user).toMatchObject({ name: 'Ana', role: 'operator' })
      const list = (await operator.request({ type: 'conversations', status: 'open' })) as {
        items: { preview: string; room: string }[]
      }
      expect(list.items.map((c) => c.preview)).toContain('Where is my order?')
      expect(list.items.find((c) => c.preview === 'Where is my order?')!.room).toBe(room.name)
    } finally {
      visitor.close()
      operator.close()
    }
  })
})
