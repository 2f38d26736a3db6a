import { spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { parseArgs } from '../../src/cli'
import { TestClient } from '../helpers'
import { HookServer, verified } from './hook-server'

const BIN = fileURLToPath(new URL('../../bin/confab-relay.js', import.meta.url))
const built = existsSync(fileURLToPath(new URL('../../dist/cli.js', import.meta.url)))

describe('the command: CONFAB_HOOK_URL and CONFAB_WEBHOOK_*', () => {
  it('reads the variables into hook and webhook options', () => {
    const command = parseArgs([], {
      CONFAB_HOOK_URL: 'http://127.0.0.1:1/',
      CONFAB_HOOK_TIMEOUT: '500',
      CONFAB_HOOK_FAILURE: 'accept',
      CONFAB_WEBHOOK_URL: 'http://127.0.0.1:2/',
      CONFAB_WEBHOOK_SECRET: 's'.repeat(16),
      CONFAB_WEBHOOK_MAX_AGE: '60000',
    })
    expect(command).toMatchObject({
      kind: 'run',
      options: {
        hook: { url: 'http://127.0.0.1:1/', timeout: 500, failure: 'accept' },
        webhook: { url: 'http://127.0.0.1:2/', secret: 's'.repeat(16), maxAge: 60_000 },
      },
    })
  })

  it.runIf(built)('a relay process calls the hook URL and posts the signed webhook', async () => {
    const hook = await HookServer.start()
    hook.answer = () => ({ status: 200, json: { action: 'modify', text: 'rewritten' } })
    const receiver = await HookServer.start()
    receiver.answer = () => ({ status: 200 })
    // In memory and without the run's REDIS_URL: the command would otherwise write ./confab.db (or use Redis).
    const { REDIS_URL: _redis, ...env } = process.env
    const args = [BIN, '--memory', '--port', '0', '--host', '127.0.0.1', '--log-level', 'warn']
    const child = spawn(process.execPath, args, {
      stdio: ['ignore', 'pipe', 'inherit'],
      env: {
        ...env,
        CONFAB_HOOK_URL: hook.url,
        CONFAB_WEBHOOK_URL: receiver.url,
        CONFAB_WEBHOOK_SECRET: 'webhook-secret-0123456789',
      },
    })
    try {
      const ws = await new Promise<string>((resolve) => {
        let out = ''
        child.stdout.on('data', (chunk: Buffer) => {
          out += chunk.toString()
          const url = /WebSocket: (\S+)/.exec(out)?.[1]
          if (url) resolve(url)
        })
      })
      const c = new TestClient(ws)
      await c.hello()
      await c.join('lobby')
      expect(await c.publish('lobby', 'original')).toMatchObject({ type: 'ack' })
      expect(await c.nextOf('message')).toMatchObject({ text: 'rewritten' })
      const event = await receiver.requests.next(() => true, 5000, 'the webhook')
      expect(verified(event)).toBe(true)
      expect(JSON.parse(event.body).data.message.text).toBe('rewritten')
      await c.close()
    } finally {
      child.kill('SIGKILL')
      await hook.close()
      await receiver.close()
    }
  })
})
