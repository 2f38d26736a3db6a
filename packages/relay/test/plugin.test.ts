import { confab } from '@confab/relay'
import { Server } from '@hapi/hapi'
import { afterEach, describe, expect, it } from 'vitest'
import { TestClient } from './helpers'

const clients: TestClient[] = []
let server: Server | null = null

afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close()))
  await server?.stop()
  server = null
})

describe('the confab hapi plugin', () => {
  it('mounts the relay into an existing hapi app beside its own routes', async () => {
    server = new Server({ port: 0, host: '127.0.0.1' })
    server.route({ method: 'GET', path: '/app', handler: () => 'my app' })
    await server.register({
      plugin: confab,
      options: {
        logger: false,
        demo: false,
        auth: { verify: (token) => ({ id: `user-${token}`, name: `Name ${token}` }) },
      },
    })
    await server.start()
    const base = `http://127.0.0.1:${server.info.port}`
    expect(await (await fetch(`${base}/app`)).text()).toBe('my app')
    expect((await fetch(`${base}/healthz`)).status).toBe(200)
    // demo: false leaves `/` to the app.
    expect((await fetch(`${base}/`)).status).toBe(404)

    const c = new TestClient(`ws://127.0.0.1:${server.info.port}/ws`)
    clients.push(c)
    expect(await c.hello({ token: '7' })).toMatchObject({ type: 'welcome', user: { id: 'user-7', name: 'Name 7' } })
    expect(await c.join('inside')).toMatchObject({ type: 'joined' })
    expect(server.plugins.confab.stats()).toEqual({ connections: 1, rooms: 1, draining: false })
  })

  it('serves the WebSocket on a custom path', async () => {
    server = new Server({ port: 0, host: '127.0.0.1' })
    await server.register({ plugin: confab, options: { logger: false, path: '/chat/ws' } })
    await server.start()
    const c = new TestClient(`ws://127.0.0.1:${server.info.port}/chat/ws`)
    clients.push(c)
    expect(await c.hello()).toMatchObject({ type: 'welcome' })
  })

  it('refuses bad options at registration with the setting named', async () => {
    const bad = new Server()
    await expect(bad.register({ plugin: confab, options: { limits: { maxText: 0 } } })).rejects.toThrowError(
      'limits.maxText: must be an integer from 1 to 1000000, got 0',
    )
  })
})

declare module '@hapi/hapi' {
  interface PluginProperties {
    confab: import('@confab/relay').ConfabApi
  }
}
