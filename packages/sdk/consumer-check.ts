import { connect, ConfabError, type Message, type Client, type Room } from '@confab/sdk'
import WebSocket from 'ws'
const c: Client = connect('http://x', { WebSocket, reconnect: { jitter: false }, persist: true })
const r: Room = c.join('a', { history: 5 })
r.on('message', (m: Message) => m.offset)
r.on('reset', (i) => i.reason)
c.on('error', (e) => e instanceof ConfabError && e.code)
