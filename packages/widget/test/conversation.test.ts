// Conversation mode of <confab-chat> with a scripted client: the relay names the room, the header follows operator
// presence, the first message never waits for a name, and the optional name and email go out in `profile`.
import { afterEach, describe, expect, it } from 'vitest'
import type { ConfabChat } from '../src/element'
import { msg } from './fake'
import { bubbles, cleanup, lastClient, mount, opened, part, shadow } from './helpers'

afterEach(cleanup)

const ROOM = 'conv:AAAAAAAAAAAAAAAAAAAAAA'

/** Mounts an inline conversation-mode widget whose relay has named the conversation and delivered presence. */
async function ready(attrs: Record<string, string> = {}): Promise<ConfabChat> {
  const el = mount({ conversation: '', mode: 'inline', relay: 'wss://r.example', ...attrs })
  const client = lastClient()
  client.setStatus('open')
  client.conversations.at(-1)!.resolve(ROOM)
  await Promise.resolve()
  await Promise.resolve()
  client.room.emit('presence', [{ id: 'u-me', name: 'Me' }])
  return el
}

describe('conversation mode', () => {
  it('connects without asking a name, as "Visitor", and joins the room the relay names', async () => {
    const el = await ready()
    expect(part(el, '.name-form').hidden).toBe(true)
    expect(part(el, '.composer').hidden).toBe(false)
    expect(opened[0]!.options.name).toBe('Visitor')
    expect(lastClient().room.name).toBe(ROOM)
    expect(lastClient().room.options).toEqual({ history: 50 })
  })

  it('sends a message written before the relay named the conversation, once it has', async () => {
    const el = mount({ conversation: '', mode: 'inline' })
    const client = lastClient()
    const sent = el.send('hello?')
    client.setStatus('open')
    expect(client.rooms).toHaveLength(0)
    client.conversations[0]!.resolve(ROOM)
    await new Promise((r) => setTimeout(r, 0))
    const room = client.room
    expect(room.sends.map((s) => s.text)).toEqual(['hello?'])
    room.sends[0]!.resolve(msg('hello?', { id: 'u-me', name: 'Visitor' }, { id: room.sends[0]!.id, room: ROOM }))
    await expect(sent).resolves.toMatchObject({ text: 'hello?' })
  })

  it('remembers the room name: a return visit joins at once, before the relay answers', async () => {
    await ready()
    expect(localStorage.getItem('confab:conversation:wss://r.example')).toBe(ROOM)
    cleanup()
    localStorage.setItem('confab:conversation:wss://r.example', ROOM)
    mount({ conversation: '', mode: 'inline', relay: 'wss://r.example' })
    expect(lastClient().room.name).toBe(ROOM)
    expect(lastClient().conversations).toHaveLength(0)
  })

  it('subscribes to operator presence with conversation() only after its own join, with the same history page', async () => {
    mount({ conversation: '', mode: 'inline' })
    const client = lastClient()
    client.setStatus('open')
    expect(client.subscribed).toEqual([])
    client.conversations[0]!.resolve(ROOM)
    await new Promise((r) => setTimeout(r, 0))
    expect(client.rooms.map((r) => r.name)).toEqual([ROOM])
    expect(client.subscribed).toEqual([{ history: 50 }])
  })

  it('asks the relay for the room once the session is open, and once while that ask is on its way', () => {
    mount({ conversation: '', mode: 'inline' })
    const client = lastClient()
    // Before `welcome` a request could not go out.
    expect(client.conversations).toHaveLength(0)
    client.setStatus('open')
    client.setStatus('reconnecting')
    client.setStatus('open')
    expect(client.conversations).toHaveLength(1)
  })

  it('on a return visit subscribes to operator presence once the session is open', () => {
    localStorage.setItem('confab:conversation:wss://r.example', ROOM)
    mount({ conversation: '', mode: 'inline', relay: 'wss://r.example' })
    const client = lastClient()
    expect(client.subscribed).toEqual([])
    client.setStatus('open')
    expect(client.subscribed).toEqual([{ history: 50 }])
  })

  it('asks the relay for the room again after a reconnect when the first ask failed', async () => {
    mount({ conversation: '', mode: 'inline' })
    const client = lastClient()
    client.setStatus('open')
    client.conversations[0]!.reject(new Error('timeout'))
    await new Promise((r) => setTimeout(r, 0))
    client.setStatus('reconnecting')
    client.setStatus('open')
    expect(client.conversations).toHaveLength(2)
  })

  it('titles the panel with the team and greets instead of "No messages yet", both attributes with defaults', async () => {
    const el = await ready()
    expect(part(el, '#title').textContent).toBe('Support')
    expect(part(el, '.empty').textContent).toBe('Hi! Ask us anything, we usually answer here.')
    el.setAttribute('team', 'Acme')
    el.setAttribute('greeting', 'Hello from Acme')
    expect(part(el, '#title').textContent).toBe('Acme')
    expect(part(el, '.empty').textContent).toBe('Hello from Acme')
  })

  it('says in the header whether an operator is online, else the reply time', async () => {
    const el = await ready({ 'reply-time': 'a few hours' })
    const client = lastClient()
    client.emit('operators', 1)
    expect(part(el, '.presence').textContent).toBe('Online now')
    expect(part(el, '.presence').classList.contains('on')).toBe(true)
    client.emit('operators', 0)
    expect(part(el, '.presence').textContent).toBe('Usually replies in a few hours')
    el.removeAttribute('reply-time')
    expect(part(el, '.presence').textContent).toBe("Away: we'll reply as soon as we can")
  })

  it('marks operator replies and shows the operator name', async () => {
    const el = await ready()
    lastClient().room.emit('message', msg('We can help', { id: 'op_1', name: 'Ana', role: 'operator' } as never))
    const m = shadow(el).querySelector('.msg.op')
    expect(m?.querySelector('.author')?.textContent).toBe('Ana')
    expect(bubbles(el)).toEqual(['We can help'])
  })

  it('marks the conversation read once joined, for replies that came while the visitor was away', async () => {
    mount({ conversation: '', mode: 'inline', relay: 'wss://r.example' })
    const client = lastClient()
    client.setStatus('open')
    client.conversations[0]!.resolve(ROOM)
    await new Promise((r) => setTimeout(r, 0))
    const room = client.room
    const before = room.markReads
    room.emit('message', msg('Sorry for the wait', { id: 'op_1', name: 'Ana', role: 'operator' } as never))
    room.emit('presence', [{ id: 'u-me', name: 'Me' }])
    expect(room.markReads).toBe(before + 1)
  })

  it('does not mark read while the launcher is closed', async () => {
    mount({ conversation: '', relay: 'wss://r.example' })
    localStorage.setItem('confab:conversation:wss://r.example', ROOM)
    cleanup()
    localStorage.setItem('confab:conversation:wss://r.example', ROOM)
    sessionStorage.setItem('confab:active:wss://r.example##conversation', '1')
    mount({ conversation: '', relay: 'wss://r.example' })
    const client = lastClient()
    client.setStatus('open')
    const room = client.room
    room.emit('presence', [{ id: 'u-me', name: 'Me' }])
    room.emit('message', msg('hello?', { id: 'op_1', name: 'Ana', role: 'operator' } as never))
    expect(room.markReads).toBe(0)
  })

  it('marks the conversation read when a reply arrives while the chat is on screen', async () => {
    await ready()
    const room = lastClient().room
    const before = room.markReads
    room.emit('message', msg('hi', { id: 'op_1', name: 'Ana', role: 'operator' } as never))
    expect(room.markReads).toBe(before + 1)
  })

  it('offers the email field after the first message when no operator is online, validates it, and sends profile', async () => {
    const el = await ready()
    const client = lastClient()
    client.emit('operators', 0)
    expect(part(el, '.profile').hidden).toBe(true)
    const room = client.room
    void el.send('anyone?')
    room.sends[0]!.resolve(msg('anyone?', { id: 'u-me', name: 'Visitor' }, { id: room.sends[0]!.id }))
    await new Promise((r) => setTimeout(r, 0))
    expect(part(el, '.profile').hidden).toBe(false)
    expect(part<HTMLInputElement>(el, '#pemail').hidden).toBe(false)
    expect(part(el, '#profile-prompt').textContent).toBe("No one is here right now. We'll reply by email:")

    part<HTMLInputElement>(el, '#pemail').value = 'not an email'
    part<HTMLFormElement>(el, '.profile').requestSubmit()
    expect(part(el, '#profile-error').textContent).toBe('Please enter an email address like name@example.com')
    expect(part(el, '#pemail').getAttribute('aria-invalid')).toBe('true')
    expect(client.requests).toEqual([])

    part<HTMLInputElement>(el, '#pname').value = 'Kim'
    part<HTMLInputElement>(el, '#pemail').value = 'kim@example.com'
    part<HTMLFormElement>(el, '.profile').requestSubmit()
    await new Promise((r) => setTimeout(r, 0))
    expect(client.requests).toEqual([{ type: 'profile', name: 'Kim', email: 'kim@example.com' }])
    expect(part(el, '.profile').hidden).toBe(true)
    expect(part(el, '.note').textContent).toBe("Thanks, we'll reply to kim@example.com")
  })

  it('asks only the name, not the email, while an operator is online; "Not now" puts it off', async () => {
    const el = await ready()
    const client = lastClient()
    client.emit('operators', 2)
    const room = client.room
    void el.send('hi')
    room.sends[0]!.resolve(msg('hi', { id: 'u-me', name: 'Visitor' }, { id: room.sends[0]!.id }))
    await new Promise((r) => setTimeout(r, 0))
    expect(part(el, '.profile').hidden).toBe(false)
    expect(part<HTMLInputElement>(el, '#pemail').hidden).toBe(true)
    part<HTMLButtonElement>(el, '.later').click()
    expect(part(el, '.profile').hidden).toBe(true)
  })

  it('mounts from a script tag with data-conversation', async () => {
    // The auto entry reads document.currentScript; the attribute copy is what matters here.
    const el = mount({ conversation: '', 'reply-time': '1 h', team: 'Acme' })
    expect(el.conversation).toBe(true)
    expect(el.replyTime).toBe('1 h')
  })
})
