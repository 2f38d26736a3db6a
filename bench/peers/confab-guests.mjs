// Peer "Confab, a guest per socket": the relay exactly as in confab.mjs, but
// every receiver says its own `hello` without `resume`, so each socket is a
// different guest, as the visitors of a real site are. Beside the `confab`
// row (one shared guest per load process) it shows what each user costs the
// relay on top of each socket: member entries, presence, user objects.
// The guests fill rooms of 100 (`idle:0`, `idle:1`, …), as visitors spread over
// a site's pages: 5,000 distinct users joining one room is the room-fill cost
// (every join sends the growing member list), a benchmark of its own.
import { exchange, open } from '../lib/socket.mjs'

export { openSender, relayOptions, startServer } from './confab.mjs'

export const label = 'Confab, a guest per socket'

const ROOM_SIZE = 100
let refs = 0

/** A receiver that is its own guest: hello without resume, then join one of the rooms of 100. */
export async function openReceiver(url, room, { localAddress }) {
  const n = refs++
  const ws = await open(`${url}/ws`, { protocol: 'confab.v1', localAddress })
  await exchange(ws, JSON.stringify({ type: 'hello', name: `guest ${n}` }), (t) => t.includes('"welcome"'))
  const ref = `j${n}`
  const own = `${room}:${Math.floor(n / ROOM_SIZE)}`
  await exchange(ws, JSON.stringify({ type: 'join', ref, room: own }), (t) => t.includes(`"ref":"${ref}"`))
  return ws
}
