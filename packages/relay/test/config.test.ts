import { describe, expect, it } from 'vitest'
import { ConfigError, DEFAULTS, resolveConfig } from '../src/config'

describe('resolveConfig', () => {
  it('fills in the documented defaults', () => {
    const config = resolveConfig()
    expect(config).toMatchObject({
      port: 8080,
      host: '0.0.0.0',
      path: '/ws',
      origins: '*',
      auth: undefined,
      historyLimit: 1000,
      idempotencyWindow: 600_000,
      heartbeat: 25_000,
      typingTimeout: 5000,
      demo: true,
      shutdownTimeout: 10_000,
      logger: { level: 'info' },
    })
    expect(config.limits).toEqual(DEFAULTS.limits)
    expect(config.limits).toMatchObject({ maxPayload: 65_536, maxBufferedBytes: 1_048_576, helloTimeout: 10_000 })
  })

  it.each([
    [{ port: 70_000 }, 'port: must be an integer from 0 to 65535, got 70000'],
    [{ origins: ['example.com'] }, 'origins: "example.com" is not an origin like https://example.com'],
    [
      { origins: ['https://a.example/path'] },
      'origins: "https://a.example/path" is not an origin like https://example.com',
    ],
    [{ redis: 'http://localhost' }, 'redis: must be a URL like redis://host:6379'],
    [{ redis: { url: 'ftp://localhost' } }, 'redis.url: must be a URL like redis://host:6379'],
    [
      { redis: { url: 'redis://localhost', prefix: 'a*' } },
      'redis.prefix: must be 1 to 64 characters: letters, digits, and _ . : -',
    ],
    [{ redis: { url: '', prefix: 'blue:' } }, 'redis.url: is required with a prefix (--redis, REDIS_URL)'],
    [
      { redis: { url: '', waitReplicas: 1 } },
      'redis.url: is required (--redis, REDIS_URL), or redis.sentinels with redis.sentinelName, or redis.cluster',
    ],
    [
      { redis: { sentinels: ['127.0.0.1:26379'] } },
      'redis.sentinelName: is required with redis.sentinels (--redis-sentinel-name, REDIS_SENTINEL_NAME): the name of the master the Sentinels watch',
    ],
    [
      { redis: { url: 'redis://localhost', sentinelName: 'main' } },
      'redis.sentinelName: needs redis.sentinels as well',
    ],
    [
      { redis: { sentinels: ['127.0.0.1'], sentinelName: 'main' } },
      'redis.sentinels: "127.0.0.1" is not host:port (IPv6 as [::1]:26379)',
    ],
    [
      { redis: { sentinels: ['a:99999'], sentinelName: 'main' } },
      'redis.sentinels: "a:99999" is not host:port (IPv6 as [::1]:26379)',
    ],
    [
      { redis: { sentinels: ['a:26379'], sentinelName: 'main', waitReplicas: 11 } },
      'redis.waitReplicas: must be an integer from 0 to 10, got 11',
    ],
    [{ apiKey: 'short' }, 'apiKey: must be at least 16 characters'],
    [{ auth: { secret: 'x'.repeat(32), publicKey: 'y' } }, 'auth: set exactly one of secret, publicKey or verify'],
    [{ auth: { publicKey: 'not a pem' } }, 'auth.publicKey: must be a PEM public key (-----BEGIN PUBLIC KEY-----)'],
    [
      { history: { idempotencyWindow: 1000 } },
      'history.idempotencyWindow: must be an integer from 600000 to 86400000, got 1000',
    ],
    [{ limits: { publishRate: 1.5 } }, 'limits.publishRate: must be an integer from 1 to 100000, got 1.5'],
    [{ trustProxy: ['not-an-ip'] }, 'trustProxy: "not-an-ip" is not an IP address or CIDR range'],
    [{ logger: { level: 'loud' } }, 'logger.level: must be one of fatal, error, warn, info, debug, trace, silent'],
    [{ path: 'ws' }, 'path: must start with /'],
  ])('refuses %j with a message naming the setting', (options, message) => {
    expect(() => resolveConfig(options as never)).toThrowError(ConfigError)
    expect(() => resolveConfig(options as never)).toThrowError(message)
  })

  it('takes Redis as a URL or as { url, prefix }, with the prefix confab: by default', () => {
    expect(resolveConfig({ redis: 'redis://localhost:6379' }).redis).toMatchObject({
      url: 'redis://localhost:6379',
      prefix: 'confab:',
      sentinels: undefined,
    })
    expect(resolveConfig({ redis: { url: 'redis://localhost:6379', prefix: 'blue:' } }).redis).toMatchObject({
      url: 'redis://localhost:6379',
      prefix: 'blue:',
    })
  })

  it('takes Sentinels with the master name, waiting for one replica by default', () => {
    const sentinels = ['10.0.0.1:26379', 'sentinel-b:26380', '[::1]:26381']
    expect(resolveConfig({ redis: { sentinels, sentinelName: 'main' } }).redis).toEqual({
      url: undefined,
      prefix: 'confab:',
      sentinels: [
        { host: '10.0.0.1', port: 26_379 },
        { host: 'sentinel-b', port: 26_380 },
        { host: '::1', port: 26_381 },
      ],
      sentinelName: 'main',
      waitReplicas: 1,
    })
    const url = 'redis://:secret@ignored:6379/2'
    expect(resolveConfig({ redis: { url, sentinels, sentinelName: 'main', waitReplicas: 0 } }).redis).toMatchObject({
      url,
      waitReplicas: 0,
    })
    expect(resolveConfig({ redis: 'redis://localhost:6379' }).redis?.waitReplicas).toBe(0)
    expect(resolveConfig({ redis: { url: 'redis://localhost:6379', waitReplicas: 2 } }).redis?.waitReplicas).toBe(2)
  })

  it('treats a "*" entry as any origin', () => {
    expect(resolveConfig({ origins: ['https://a.example', '*'] }).origins).toBe('*')
  })
})

describe('relations between settings', () => {
  it('names the setting the user set when two settings disagree', () => {
    expect(() => resolveConfig({ limits: { maxText: 70_000 } })).toThrowError(
      'limits.maxText: must be below limits.maxPayload (65536), got 70000',
    )
    expect(() => resolveConfig({ limits: { maxPayload: 2048 } })).toThrowError(
      'limits.maxPayload: must be above limits.maxText (4000), got 2048',
    )
    expect(() => resolveConfig({ limits: { headersTimeout: 20_000 } })).toThrowError(
      'limits.headersTimeout: must be at most limits.requestTimeout (10000), got 20000',
    )
    expect(resolveConfig({ limits: { maxPayload: 2048, maxText: 1000 } }).limits.maxText).toBe(1000)
  })
})
