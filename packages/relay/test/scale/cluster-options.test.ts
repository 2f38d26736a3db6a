// The Redis Cluster option: read from --redis-cluster, REDIS_CLUSTER and `redis: { cluster }`,
// checked, and defaulting to one replica confirming each write.
import { describe, expect, it } from 'vitest'
import { parseArgs } from '../../src/cli'
import { ConfigError, resolveConfig } from '../../src/config'

describe('the Redis Cluster option', () => {
  it('reads the cluster nodes from the flag or the variable, with or without a URL', () => {
    expect(parseArgs([], { REDIS_CLUSTER: '10.0.0.1:6379, 10.0.0.2:6379' })).toEqual({
      kind: 'run',
      options: { redis: { url: '', cluster: ['10.0.0.1:6379', '10.0.0.2:6379'] } },
    })
    const url = 'redis://:secret@ignored'
    expect(parseArgs(['--redis-cluster', 'a:1,b:2'], { REDIS_URL: url })).toEqual({
      kind: 'run',
      options: { redis: { url, cluster: ['a:1', 'b:2'] } },
    })
  })

  it('resolves the nodes as host and port, and waits for one replica by default', () => {
    const { redis } = resolveConfig({ redis: { url: '', cluster: ['10.0.0.1:6379', '[::1]:7000'] } })
    expect(redis).toEqual({
      url: undefined,
      prefix: 'confab:',
      sentinels: undefined,
      sentinelName: undefined,
      cluster: [
        { host: '10.0.0.1', port: 6379 },
        { host: '::1', port: 7000 },
      ],
      waitReplicas: 1,
    })
    expect(resolveConfig({ redis: { cluster: ['a:1'], waitReplicas: 0 } }).redis?.waitReplicas).toBe(0)
    // A plain URL keeps its defaults.
    expect(resolveConfig({ redis: 'redis://localhost' }).redis).toMatchObject({ cluster: undefined, waitReplicas: 0 })
  })

  it('refuses a bad address, and Sentinels beside a cluster', () => {
    expect(() => resolveConfig({ redis: { cluster: ['localhost'] } })).toThrowError(
      new ConfigError('redis.cluster', '"localhost" is not host:port (IPv6 as [::1]:6379)'),
    )
    expect(() => resolveConfig({ redis: { cluster: ['a:1'], sentinels: ['b:2'], sentinelName: 'main' } })).toThrowError(
      new ConfigError('redis.cluster', 'cannot be combined with redis.sentinels: a cluster fails over by itself'),
    )
  })
})
