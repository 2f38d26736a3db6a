import { it } from 'vitest'
import { RelayNode } from './relay-node'
import { SentinelGroup } from './sentinels'

it('dbg', async () => {
  const group = await SentinelGroup.start()
  const node = await RelayNode.start('one', group.args)
  const t0 = Date.now()
  await group.master.kill('SIGKILL')
  for (let i = 0; i < 40; i++) {
    await new Promise((r) => setTimeout(r, 500))
    const s = (await fetch(`${node.http}/readyz`)).status
    console.log(Date.now() - t0, s)
  }
  console.log(node.log.split('\n').filter((l) => !l.includes('write command')).join('\n').slice(-20000))
  await node.kill()
  await group.stop()
}, 60000)
