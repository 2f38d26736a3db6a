import { Socket } from 'node:net'
import { describe, expect, it } from 'vitest'
import { forgetIdleTimer } from '../src/socket-internals'

/** The socket's own timer, found the way Node keeps it (a symbol described "timeout"). */
function timer(socket: Socket): unknown {
  const key = Object.getOwnPropertySymbols(socket).find((k) => k.description === 'timeout')
  if (key === undefined)
    throw new Error('this Node keeps no idle timer under a "timeout" symbol: update socket-internals')
  return (socket as unknown as Record<symbol, unknown>)[key]
}

describe('forgetIdleTimer', () => {
  it('drops a cleared idle timer that Node would keep on the socket for its whole life', () => {
    const socket = new Socket()
    socket.setTimeout(1000)
    socket.setTimeout(0)
    expect(timer(socket)).not.toBeNull() // what the saving is about: Node keeps the cleared Timeout
    forgetIdleTimer(socket)
    expect(timer(socket)).toBeNull()
    socket.setTimeout(50) // and the socket can still take a new one
    expect(timer(socket)).not.toBeNull()
    socket.destroy()
  })

  it('leaves a running idle timer alone', () => {
    const socket = new Socket()
    socket.setTimeout(1000)
    const running = timer(socket)
    forgetIdleTimer(socket)
    expect(timer(socket)).toBe(running)
    socket.destroy()
  })
})
