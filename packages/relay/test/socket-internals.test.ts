import { Socket } from 'node:net'
import { describe, expect, it } from 'vitest'
import { compactCloseListeners, forgetIdleTimer } from '../src/socket-internals'

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

describe('compactCloseListeners', () => {
  it('replaces a grown array of close listeners with a copy that calls the same listeners in the same order', () => {
    const socket = new Socket()
    const calls: string[] = []
    const first = () => calls.push('first')
    const second = () => calls.push('second')
    const third = () => calls.push('third')
    socket.on('close', first)
    socket.on('close', second)
    socket.on('close', third) // pushed: the array now has room for 19
    const events = (socket as unknown as { _events: Record<string, unknown> })._events
    const grown = events.close
    compactCloseListeners(socket)
    expect(events.close).not.toBe(grown)
    expect(socket.listeners('close')).toEqual([first, second, third])
    socket.emit('close')
    expect(calls).toEqual(['first', 'second', 'third'])
    // EventEmitter still manages the copy.
    socket.removeListener('close', second)
    socket.on('close', first)
    expect(socket.listeners('close')).toEqual([first, third, first])
    socket.destroy()
  })

  it('leaves one or two listeners alone (EventEmitter sizes those exactly)', () => {
    const socket = new Socket()
    const events = (socket as unknown as { _events: Record<string, unknown> })._events
    socket.on('close', () => {})
    socket.on('close', () => {})
    const pair = events.close
    compactCloseListeners(socket)
    expect(events.close).toBe(pair)
    socket.destroy()
  })
})
