// Shared scaffolding for the SDK's unit tests: a client on FakeSockets plus frame builders.
import { type ConnectOptions, connect } from '../../src/client'
import type { ConfabError } from '../../src/errors'
import type { JoinedFrame, Member, Message } from '../../src/protocol'
import { ALICE, FakeSocket } from './fake-socket'

/** A client on FakeSockets with deterministic backoff (no jitter), recording statuses and errors. */
export function setup(options: ConnectOptions = {}) {
  FakeSocket.reset()
  const client = connect('http://relay.test', { WebSocket: FakeSocket, reconnect: { jitter: false }, ...options })
  const statuses: string[] = []
  const errors: ConfabError[] = []
  client.on('status', (s) => statuses.push(s))
  client.on('error', (e) => errors.push(e))
  return { client, statuses, errors }
}

/** A stored message as the relay would send it. */
export function msg(offset: number, text = `m${offset}`, room = 'lobby', from: Member = ALICE): Message {
  return { room, offset, id: `id-${offset}`, from, text, ts: 1_700_000_000_000 + offset }
}

/** A `joined` answer with sensible defaults. */
export function joined(over: Partial<JoinedFrame> = {}): JoinedFrame {
  return {
    type: 'joined',
    ref: 'lobby',
    room: 'lobby',
    epoch: 'e1',
    head: 0,
    recovered: true,
    messages: [],
    members: [ALICE],
    ...over,
  }
}
