// Request/response over a child process's IPC channel: the coordinator calls,
// the child serves. One pending map per child; a child that exits fails its calls.

const TIMEOUT = 120_000 // 2 minutes: the slowest call (5,000 connections) stays well below

/** Returns `call(cmd, args)` bound to `child`; it resolves with the child's answer. */
export function client(child) {
  let next = 0
  const pending = new Map()
  child.on('message', (msg) => {
    const entry = pending.get(msg?.rpc)
    if (!entry) return
    pending.delete(msg.rpc)
    clearTimeout(entry.timer)
    if (msg.error) entry.reject(new Error(msg.error))
    else entry.resolve(msg.result)
  })
  child.once('exit', (code, signal) => {
    for (const entry of pending.values()) {
      clearTimeout(entry.timer)
      entry.reject(new Error(`child exited (${signal ?? code}) before answering`))
    }
    pending.clear()
  })
  return function call(cmd, args = {}, timeout = TIMEOUT) {
    const rpc = ++next
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        pending.delete(rpc)
        reject(new Error(`rpc ${cmd} timed out after ${timeout} ms`))
      }, timeout)
      pending.set(rpc, { resolve, reject, timer })
      child.send({ rpc, cmd, args }, (err) => {
        if (!err) return
        pending.delete(rpc)
        clearTimeout(timer)
        reject(new Error(`rpc ${cmd}: ${err.message}`))
      })
    })
  }
}

/** In a child: answers calls with `handlers.get(cmd)(args)`; exits when the parent goes away. */
export function serve(handlers) {
  process.on('disconnect', () => process.exit(0))
  process.on('message', async (msg) => {
    const handler = handlers.get(msg?.cmd)
    try {
      if (!handler) throw new Error(`unknown command ${msg?.cmd}`)
      const result = await handler(msg.args)
      process.send({ rpc: msg.rpc, result })
    } catch (err) {
      process.send({ rpc: msg.rpc, error: err instanceof Error ? err.stack : String(err) })
    }
  })
}

/** In a child: tells the parent it is up, with whatever it needs to know (a port). */
export function ready(info = {}) {
  process.send({ ready: true, ...info })
}

/** Waits for a child's `ready` message. */
export function whenReady(child, timeout = 30_000) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('child did not become ready')), timeout)
    const onMessage = (msg) => {
      if (!msg?.ready) return
      done()
      resolve(msg)
    }
    const onExit = (code) => {
      done()
      reject(new Error(`child exited with ${code} before it was ready`))
    }
    const done = () => {
      clearTimeout(timer)
      child.off('message', onMessage)
      child.off('exit', onExit)
    }
    child.on('message', onMessage)
    child.once('exit', onExit)
  })
}
