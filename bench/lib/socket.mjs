// Raw `ws` client sockets for the load generators: every peer's receivers and
// senders speak their protocol directly over `ws`, so the client side costs the
// same for every server and the comparison is about servers.
import WebSocket from 'ws'

/**
 * Opens a socket and resolves once it is open. `localAddress` spreads source IPs (127.0.0.x).
 * With `greeting(text)`, also waits for the server's first frame that matches: it may arrive
 * in the same TCP segment as the upgrade response, so the listener is set before `open`.
 */
export async function open(url, { protocol, localAddress, greeting } = {}) {
  const ws = new WebSocket(url, protocol, {
    localAddress,
    perMessageDeflate: false,
    handshakeTimeout: 30_000,
    skipUTF8Validation: true, // the load generator's CPU is the scarce resource
  })
  const greeted = greeting ? exchange(ws, undefined, greeting) : null
  greeted?.catch(() => {}) // a failed open rejects below; this keeps the rejection handled
  await new Promise((resolve, reject) => {
    ws.once('open', () => {
      ws.off('error', reject)
      resolve()
    })
    ws.once('error', reject)
  })
  await greeted
  return ws
}

/** Sends `frame` (when given) and resolves with the first incoming frame that `accept(text)` returns true for. */
export function exchange(ws, frame, accept, timeout = 30_000) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => finish(new Error('no answer in time')), timeout)
    const onMessage = (data) => {
      const text = data.toString()
      if (accept(text)) finish(null, text)
    }
    const onClose = (code) => finish(new Error(`closed with ${code} during handshake`))
    const finish = (err, text) => {
      clearTimeout(timer)
      ws.off('message', onMessage)
      ws.off('close', onClose)
      err ? reject(err) : resolve(text)
    }
    ws.on('message', onMessage)
    ws.once('close', onClose)
    if (frame !== undefined) ws.send(frame)
  })
}
