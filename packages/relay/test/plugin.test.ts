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

  it("edits and deletes any message from the app's own code, like the HTTP API", async () => {
    server = new Server({ port: 0, host: '127.0.0.1' })
    await server.register({ plugin: confab, options: { logger: false, demo: false } })
    await server.start()
    const c = new TestClient(`ws://127.0.0.1:${server.info.port}/ws`)
    clients.push(c)
    await c.hello({ name: 'Ann' })
    await c.join('app-room')
    await c.publish('app-room', 'first draft', { id: 'm1' })
    const api = server.plugins.confab
    const edited = await api.edit('app-room', 1, 'final', { meta: { by: 'moderator' }, id: 'fix-1' })
    expect(edited).toMatchObject({
      offset: 2,
      id: 'fix-1',
      action: 'edit',
      from: { id: 'system', name: 'System' },
      message: { offset: 1, text: 'final', meta: { by: 'moderator' } },
    })
    expect(await c.nextOf('update')).toEqual({ type: 'update', ...edited })
    const deleted = await api.delete('app-room', 1, { from: { id: 'mod-1', name: 'Mod' } })
    expect(deleted).toMatchObject({ offset: 3, action: 'delete', from: { id: 'mod-1' }, message: { deleted: true } })
    await expect(api.delete('app-room', 1)).rejects.toMatchObject({ code: 'not_found' })
    await expect(api.edit('app-room', 0, 'x')).rejects.toMatchObject({
      code: 'bad_request',
      message: 'offset must be a positive integer',
    })
    await expect(api.edit('app-room', 1, '')).rejects.toMatchObject({ code: 'bad_request', message: 'text is empty' })
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
