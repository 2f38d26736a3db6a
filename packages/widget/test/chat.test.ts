import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import type { ConfabChat } from '../src/element'
import { FakeClient, msg, resetOffsets } from './fake'
import { bubbles, cleanup, joinedClient, lastClient, mount, part, shadow } from './helpers'

const ME = { id: 'u-me', name: 'Me' }

beforeEach(resetOffsets)
afterEach(cleanup)

function inline(): ConfabChat {
  return mount({ name: 'Me', mode: 'inline' })
}

describe('messages', () => {
  it('asks for 50 messages of history when it joins', () => {
    inline()
    expect(lastClient().room.options).toEqual({ history: 50 })
  })

  it('renders history and live messages in order in a role=log polite live region', () => {
    const el = inline()
    const client = lastClient()
    client.room.emit('message', msg('first'))
    client.room.emit('message', msg('second'))
    joinedClient()
    client.room.emit('message', msg('live'))
    const log = part(el, '[part=log]')
    expect(log.getAttribute('role')).toBe('log')
    expect(log.getAttribute('aria-live')).toBe('polite')
    expect(log.getAttribute('aria-label')).toBe('Messages')
    expect(bubbles(el)).toEqual(['first', 'second', 'live'])
  })

  it('shows each offset once', () => {
    const el = inline()
    const m = msg('once')
    lastClient().room.emit('message', m)
    lastClient().room.emit('message', m)
    expect(bubbles(el)).toEqual(['once'])
  })

  it('renders markup in text and names as inert text nodes', () => {
    const el = inline()
    const payload = '<img src=x onerror="window.pwned=1"><svg onload=alert(1)>'
    lastClient().room.emit('message', msg(payload, { id: 'u-x', name: '<b>Mallory</b>' }))
    const item = part(el, '[part~=message]')
    expect(item.querySelector('img, svg:not([aria-hidden]), b')).toBeNull()
    expect(part(el, '[part=bubble]').textContent).toBe(payload)
    expect(part(el, '[part=author]').textContent).toBe('<b>Mallory</b>')
  })

  it('groups consecutive messages from one sender under one name', () => {
    const el = inline()
    const room = lastClient().room
    room.emit('message', msg('a1'))
    room.emit('message', msg('a2'))
    room.emit('message', msg('b1', { id: 'u-b', name: 'Bo' }))
    room.emit('message', msg('a3'))
    const cont = [...shadow(el).querySelectorAll('[part~=message]')].map((m) => m.classList.contains('cont'))
    expect(cont).toEqual([false, true, false, false])
  })

  it('starts a new group after five minutes from the same sender', () => {
    const el = inline()
    const room = lastClient().room
    room.emit('message', msg('early', undefined, { ts: 0 }))
    room.emit('message', msg('late', undefined, { ts: 5 * 60_000 }))
    expect(shadow(el).querySelectorAll('.cont')).toHaveLength(0)
  })

  it('marks the local user\'s messages and names them "You"', () => {
    const el = inline()
    lastClient().room.emit('message', msg('mine', ME))
    expect(part(el, '[part~=message]').getAttribute('part')).toBe('message message-own')
    expect(part(el, '[part=author]').textContent).toBe('You')
  })

  it('shows a machine-readable timestamp on every message', () => {
    const el = inline()
    lastClient().room.emit('message', msg('t', undefined, { ts: Date.UTC(2026, 0, 1, 9, 5) }))
    expect(part(el, 'time').getAttribute('datetime')).toBe('2026-01-01T09:05:00.000Z')
    expect(part(el, 'time').textContent).toMatch(/\d{1,2}:05/)
  })

  it('says "No messages yet" once joined to an empty room, and not before', () => {
    const el = inline()
    const empty = part(el, '[part=empty]')
    expect(empty.hidden).toBe(true)
    joinedClient()
    expect(empty.hidden).toBe(false)
    expect(empty.textContent).toBe('No messages yet. Say hello!')
  })

  it('fires confab-message for each message shown, bubbling out of the shadow DOM', () => {
    const el = inline()
    const seen: unknown[] = []
    document.addEventListener('confab-message', (e) => seen.push((e as CustomEvent).detail.message.text))
    lastClient().room.emit('message', msg('hey'))
    expect(seen).toEqual(['hey'])
    expect(el.isConnected).toBe(true)
  })
})

describe('sending', () => {
  function type(el: ConfabChat, text: string, init: KeyboardEventInit = {}): void {
    const input = part<HTMLTextAreaElement>(el, '[part=input]')
    input.value = text
    input.dispatchEvent(new KeyboardEvent('keydown', { key: 'Enter', bubbles: true, ...init }))
  }

  it('sends on Enter and clears the input; Shift+Enter does not send', () => {
    const el = inline()
    type(el, 'line', { shiftKey: true })
    expect(lastClient().room.sends).toHaveLength(0)
    type(el, '  hello  ')
    expect(lastClient().room.sends.map((s) => s.text)).toEqual(['hello'])
    expect(part<HTMLTextAreaElement>(el, '[part=input]').value).toBe('')
  })

  it('does not send blank text', () => {
    const el = inline()
    type(el, '   ')
    expect(lastClient().room.sends).toHaveLength(0)
  })

  it('shows a send as pending, then as sent once stored', async () => {
    const el = inline()
    joinedClient()
    type(el, 'hi')
    const item = part(el, '[part~=message-own]')
    expect(item.classList.contains('pending')).toBe(true)
    expect(part(el, '[part~=message-state]').textContent).toBe('Sending…')
    const stored = msg('hi', ME)
    lastClient().room.sends[0]?.resolve(stored)
    await expect.poll(() => item.classList.contains('pending')).toBe(false)
    expect(item.dataset.offset).toBe(String(stored.offset))
    expect(shadow(el).querySelector('[part~=message-state]')).toBeNull()
  })

  it('keeps one bubble when our broadcast arrives before the ack', async () => {
    const el = inline()
    joinedClient()
    type(el, 'race')
    const stored = msg('race', ME, { id: lastClient().room.sends[0]?.id })
    lastClient().room.emit('message', stored)
    // Settled by the broadcast's id, before the ack.
    expect(bubbles(el)).toEqual(['race'])
    expect(shadow(el).querySelector('.pending')).toBeNull()
    lastClient().room.sends[0]?.resolve(stored)
    await Promise.resolve()
    expect(bubbles(el)).toEqual(['race'])
  })

  it('does not settle a pending bubble with another message of ours that has the same text', () => {
    const el = inline()
    joinedClient()
    type(el, 'ok')
    // Sent from another tab of the same user: same text, another id.
    lastClient().room.emit('message', msg('ok', ME, { id: 'other-tab' }))
    expect(bubbles(el)).toEqual(['ok', 'ok'])
    expect(shadow(el).querySelectorAll('.pending')).toHaveLength(1)
  })

  it('keeps one bubble when the ack arrives before our broadcast', async () => {
    const el = inline()
    joinedClient()
    type(el, 'ackfirst')
    const stored = msg('ackfirst', ME)
    lastClient().room.sends[0]?.resolve(stored)
    await expect.poll(() => shadow(el).querySelector('.pending')).toBeNull()
    lastClient().room.emit('message', stored)
    expect(bubbles(el)).toEqual(['ackfirst'])
  })

  it('marks a failed send, reports confab-error, and resends on retry', async () => {
    const el = inline()
    joinedClient()
    const errors: unknown[] = []
    el.addEventListener('confab-error', (e) => errors.push((e as CustomEvent).detail.error))
    type(el, 'flaky')
    const boom = new Error('rate limited')
    lastClient().room.sends[0]?.reject(boom)
    await expect.poll(() => shadow(el).querySelector('.failed')).not.toBeNull()
    expect(errors).toEqual([boom])
    expect(part(el, '[part~=message-state]').textContent).toBe('Not sentRetry')
    part(el, '[part=retry-button]').click()
    expect(lastClient().room.sends.map((s) => s.text)).toEqual(['flaky', 'flaky'])
    // The same id both times: if the relay stored the first attempt, it answers with that message.
    const [first, second] = lastClient().room.sends
    expect(first?.given).toMatch(/^[0-9a-z]{9,}$/)
    expect(second?.given).toBe(first?.given)
    expect(shadow(el).querySelector('.pending')).not.toBeNull()
    lastClient().room.sends[1]?.resolve(msg('flaky', ME))
    await expect.poll(() => shadow(el).querySelector('.pending, .failed')).toBeNull()
    expect(bubbles(el)).toEqual(['flaky'])
  })

  it('keeps focus in the widget when Retry is pressed (the button goes away)', async () => {
    const el = inline()
    joinedClient()
    type(el, 'flaky')
    lastClient().room.sends[0]?.reject(new Error('rate limited'))
    await expect.poll(() => shadow(el).querySelector('[part=retry-button]')).not.toBeNull()
    const retry = part(el, '[part=retry-button]')
    retry.focus()
    retry.click()
    expect(retry.isConnected).toBe(false)
    expect(shadow(el).activeElement).toBe(part(el, '[part=log]'))
  })

  it('shows a send whose ack is late as "Not confirmed yet…" with Retry, not as "Not sent"', async () => {
    const el = inline()
    joinedClient()
    type(el, 'slow ack')
    const send = lastClient().room.sends[0]
    // The SDK's timeout: the message stays queued and goes again (same id) after the reconnect.
    send?.reject(Object.assign(new Error('no ack within 10000 ms'), { code: 'timeout', id: send.id }))
    await expect.poll(() => shadow(el).querySelector('.unconfirmed')).not.toBeNull()
    expect(shadow(el).querySelector('.failed, .pending')).toBeNull()
    const state = part(el, '[part~=message-state]')
    expect(state.getAttribute('part')).toBe('message-state message-unconfirmed')
    expect(state.textContent).toBe('Not confirmed yet…Retry')
    // The SDK's own resend is stored and broadcast: the bubble settles without a click.
    lastClient().room.emit('message', msg('slow ack', ME, { id: send?.id }))
    expect(bubbles(el)).toEqual(['slow ack'])
    expect(shadow(el).querySelector('.unconfirmed, .failed, .pending, [part=retry-button]')).toBeNull()
  })

  it('resends an unconfirmed message with its first id on Retry', async () => {
    const el = inline()
    joinedClient()
    type(el, 'slow ack')
    const send = lastClient().room.sends[0]
    send?.reject(Object.assign(new Error('no ack within 10000 ms'), { code: 'timeout', id: send.id }))
    await expect.poll(() => shadow(el).querySelector('[part=retry-button]')).not.toBeNull()
    part(el, '[part=retry-button]').click()
    expect(lastClient().room.sends.map((s) => s.id)).toEqual([send?.id, send?.id])
    expect(shadow(el).querySelector('.pending')).not.toBeNull()
    expect(shadow(el).querySelector('.unconfirmed')).toBeNull()
  })

  it("gives each new message an id from the SDK's generator (one generator, the SDK's)", () => {
    const el = inline()
    joinedClient()
    type(el, 'one')
    type(el, 'two')
    const [one, two] = lastClient().room.sends.map((s) => s.given)
    expect(one).toMatch(/^[0-9a-z]{9,}$/)
    expect(two).toMatch(/^[0-9a-z]{9,}$/)
    expect(one).not.toBe(two)
  })

  it('settles a failed message when the relay turns out to have stored it (replayed after a reconnect)', async () => {
    const el = inline()
    joinedClient()
    type(el, 'lost ack')
    const send = lastClient().room.sends[0]
    send?.reject(new Error('no ack within 10000 ms'))
    await expect.poll(() => shadow(el).querySelector('.failed')).not.toBeNull()
    lastClient().room.emit('message', msg('lost ack', ME, { id: send?.id }))
    expect(bubbles(el)).toEqual(['lost ack'])
    expect(shadow(el).querySelector('.failed, .pending, [part=retry-button]')).toBeNull()
    expect(lastClient().room.sends).toHaveLength(1)
  })

  it('leaves a failed send from the previous room out of the new room', async () => {
    const el = inline()
    joinedClient()
    const errors: unknown[] = []
    el.addEventListener('confab-error', (e) => errors.push((e as CustomEvent).detail.error))
    const oldRoom = lastClient().room
    el.send('old room').catch(() => undefined)
    el.room = 'two'
    joinedClient()
    const newRoom = lastClient().room
    // The old room's unsent bubble went with its room.
    expect(bubbles(el)).toEqual([])
    el.send('new room').catch(() => undefined)
    oldRoom.sends[0]?.reject(new Error('closed'))
    await Promise.resolve()
    await Promise.resolve()
    expect(bubbles(el)).toEqual(['new room'])
    expect(shadow(el).querySelector('.failed')).toBeNull()
    expect(shadow(el).querySelectorAll('.pending')).toHaveLength(1)
    expect(errors).toEqual([])
    newRoom.sends[0]?.resolve(msg('new room', ME))
    await expect.poll(() => shadow(el).querySelector('.pending')).toBeNull()
    expect(bubbles(el)).toEqual(['new room'])
  })

  it("does not settle a bubble in the new room with the previous room's ack", async () => {
    const el = inline()
    joinedClient()
    const oldRoom = lastClient().room
    el.send('old room').catch(() => undefined)
    el.room = 'two'
    joinedClient()
    el.send('new room').catch(() => undefined)
    oldRoom.sends[0]?.resolve(msg('old room', ME))
    await Promise.resolve()
    await Promise.resolve()
    expect(bubbles(el)).toEqual(['new room'])
    expect(shadow(el).querySelectorAll('.pending')).toHaveLength(1)
  })

  it('send() resolves with the stored message', async () => {
    const el = inline()
    const sent = el.send('via api')
    const stored = msg('via api', ME)
    lastClient().room.sends[0]?.resolve(stored)
    await expect(sent).resolves.toEqual(stored)
  })

  it('send() rejects clearly when no display name is known', async () => {
    const el = mount({ mode: 'inline' })
    await expect(el.send('x')).rejects.toThrow('confab-chat: no display name yet (set the name attribute)')
  })

  it('tells the room the user is typing on input', () => {
    const el = inline()
    part(el, '[part=input]').dispatchEvent(new Event('input'))
    expect(lastClient().room.typed).toBe(1)
  })

  it('labels the input and the send button, and cuts nothing silently (no maxlength)', () => {
    const el = inline()
    const input = part(el, '[part=input]')
    expect(part(el, `label[for=${input.id}]`).textContent).toBe('Message')
    expect(part(el, '[part=send-button]').getAttribute('aria-label')).toBe('Send')
    expect(input.hasAttribute('maxlength')).toBe(false)
  })
})

describe('room state', () => {
  it('shows how many people are online', () => {
    const el = inline()
    joinedClient([ME, { id: 'u-k', name: 'Kira' }, { id: 'u-b', name: 'Bo' }])
    expect(part(el, '[part=presence]').textContent).toBe('3 online')
  })

  it("shows a large room's count in the reader's digits from memberCount, not from the names it has", () => {
    const el = inline()
    el.lang = 'en'
    const client = joinedClient([ME])
    client.room.memberCount = 20_345
    client.room.emit('presence', [ME])
    expect(part(el, '[part=presence]').textContent).toBe('20,345 online')
    el.lang = 'de'
    client.room.emit('presence', [ME])
    expect(part(el, '[part=presence]').textContent).toBe('20.345 online')
  })

  it('says who is typing, never the local user', () => {
    const el = inline()
    const room = lastClient().room
    room.emit('typing', [{ id: 'u-k', name: 'Kira' }, ME])
    expect(part(el, '[part=typing]').textContent).toBe('Kira is typing…')
    room.emit('typing', [
      { id: 'u-k', name: 'Kira' },
      { id: 'u-b', name: 'Bo' },
    ])
    expect(part(el, '[part=typing]').textContent).toBe('Kira and Bo are typing…')
    room.emit('typing', [
      { id: 'u-k', name: 'Kira' },
      { id: 'u-b', name: 'Bo' },
      { id: 'u-c', name: 'Cy' },
    ])
    expect(part(el, '[part=typing]').textContent).toBe('Several people are typing…')
    room.emit('typing', [])
    expect(part(el, '[part=typing]').textContent).toBe('')
  })

  it('stops showing someone as typing once their message arrives', () => {
    const el = inline()
    const kira = { id: 'u-k', name: 'Kira' }
    lastClient().room.emit('typing', [kira])
    lastClient().room.emit('message', msg('done', kira))
    expect(part(el, '[part=typing]').textContent).toBe('')
  })

  it('shows "Reconnecting..." while the client reconnects and empties the banner when open again', () => {
    const el = inline()
    const banner = part(el, '[part=banner]')
    joinedClient()
    // Never hidden, only empty (and zero height in CSS): a status region must stay in the accessibility tree to be announced.
    expect([banner.hidden, banner.textContent]).toEqual([false, ''])
    lastClient().setStatus('reconnecting')
    expect([banner.hidden, banner.textContent]).toEqual([false, 'Reconnecting...'])
    expect(banner.getAttribute('role')).toBe('status')
    lastClient().setStatus('open')
    expect([banner.hidden, banner.textContent]).toEqual([false, ''])
  })

  it('keeps screen readers from reading out the join history: the log is aria-busy until joined', () => {
    const el = inline()
    const log = part(el, '[part=log]')
    expect(log.getAttribute('aria-busy')).toBe('true')
    lastClient().room.emit('message', msg('from history'))
    expect(log.getAttribute('aria-busy')).toBe('true')
    joinedClient()
    expect(log.getAttribute('aria-busy')).toBe('false')
    lastClient().room.emit('reset', { reason: 'epoch' })
    expect(log.getAttribute('aria-busy')).toBe('true')
    lastClient().room.emit('presence', [ME])
    expect(log.getAttribute('aria-busy')).toBe('false')
  })

  it('says messages will be sent later when the browser is offline', () => {
    const el = inline()
    const online = Object.getOwnPropertyDescriptor(Navigator.prototype, 'onLine')
    Object.defineProperty(navigator, 'onLine', { configurable: true, get: () => false })
    try {
      lastClient().setStatus('reconnecting')
      expect(part(el, '[part=banner]').textContent).toBe("Offline: messages will be sent when you're back")
    } finally {
      Object.defineProperty(navigator, 'onLine', online ?? { configurable: true, value: true })
      delete (navigator as unknown as Record<string, unknown>).onLine
    }
  })

  it('fires confab-status with each status change', () => {
    const el = inline()
    const seen: string[] = []
    el.addEventListener('confab-status', (e) => seen.push((e as CustomEvent).detail.status))
    lastClient().setStatus('open')
    lastClient().setStatus('reconnecting')
    expect(seen).toEqual(['open', 'reconnecting'])
    expect(el.status).toBe('reconnecting')
  })

  it('clears the shown history when the room was reset', () => {
    const el = inline()
    lastClient().room.emit('message', msg('old'))
    lastClient().room.emit('reset', { reason: 'epoch' })
    expect(bubbles(el)).toEqual([])
  })
})

describe('history paging', () => {
  it('offers "Load earlier messages" when older ones exist, and prepends them in order', async () => {
    const el = inline()
    const room = lastClient().room
    resetOffsets()
    const older = [msg('o1'), msg('o2')]
    room.emit('message', msg('n3'))
    joinedClient()
    const more = part<HTMLButtonElement>(el, '[part=load-earlier]')
    expect(more.hidden).toBe(false)
    expect(more.textContent).toBe('Load earlier messages')
    room.historyResult = older
    more.click()
    await expect.poll(() => bubbles(el)).toEqual(['o1', 'o2', 'n3'])
    expect(room.historyCalls).toEqual([{ before: 3, limit: 50 }])
    expect(more.hidden).toBe(true)
  })

  it('keeps keyboard focus while "Load earlier" loads and on the log once no earlier page is left', async () => {
    const el = inline()
    const room = lastClient().room
    resetOffsets()
    const older = [msg('o1'), msg('o2')]
    room.emit('message', msg('n3'))
    joinedClient()
    const more = part<HTMLButtonElement>(el, '[part=load-earlier]')
    let release = (): void => undefined
    room.history = (options) => {
      room.historyCalls.push(options)
      return new Promise((done) => {
        release = () => done(older)
      })
    }
    more.focus()
    more.click()
    expect(more.getAttribute('aria-disabled')).toBe('true')
    expect(more.disabled).toBe(false)
    expect(shadow(el).activeElement).toBe(more)
    release()
    await expect.poll(() => more.hidden).toBe(true)
    expect(more.hasAttribute('aria-disabled')).toBe(false)
    expect(shadow(el).activeElement).toBe(part(el, '[part=log]'))
  })

  it('marks the log aria-busy while an earlier page loads, so it is not read out', async () => {
    const el = inline()
    const room = lastClient().room
    resetOffsets()
    const older = [msg('o1')]
    room.emit('message', msg('n2'))
    joinedClient()
    const log = part(el, '[part=log]')
    let release = (): void => undefined
    room.history = () =>
      new Promise((done) => {
        release = () => done(older)
      })
    part(el, '[part=load-earlier]').click()
    expect(log.getAttribute('aria-busy')).toBe('true')
    release()
    await expect.poll(() => bubbles(el)).toEqual(['o1', 'n2'])
    expect(log.getAttribute('aria-busy')).toBe('false')
  })

  it('offers no earlier page when the first message of the room is shown', () => {
    const el = inline()
    lastClient().room.emit('message', msg('the very first'))
    joinedClient()
    expect(part(el, '[part=load-earlier]').hidden).toBe(true)
  })

  it('loads the earlier page when the reader scrolls to the top', async () => {
    const el = inline()
    const room = lastClient().room
    offsetTo(10)
    room.emit('message', msg('ten'))
    joinedClient()
    const log = part(el, '[part=log]')
    log.scrollTop = 0
    log.dispatchEvent(new Event('scroll'))
    await expect.poll(() => room.historyCalls).toEqual([{ before: 10, limit: 50 }])
  })
})

describe('new messages marker', () => {
  it('shows "New messages" instead of scrolling when the reader has scrolled up, and jumps on click', () => {
    const el = inline()
    joinedClient()
    const log = part(el, '[part=log]')
    Object.defineProperty(log, 'scrollHeight', { configurable: true, get: () => 1000 })
    Object.defineProperty(log, 'clientHeight', { configurable: true, get: () => 300 })
    log.scrollTop = 100
    lastClient().room.emit('message', msg('while away'))
    const jump = part(el, '[part=new-messages]')
    expect(jump.hidden).toBe(false)
    expect(log.scrollTop).toBe(100)
    jump.click()
    expect(jump.hidden).toBe(true)
    expect(log.scrollTop).toBe(1000)
  })

  it('hands focus from "New messages" to the log it jumped in', () => {
    const el = inline()
    joinedClient()
    const log = part(el, '[part=log]')
    Object.defineProperty(log, 'scrollHeight', { configurable: true, get: () => 1000 })
    Object.defineProperty(log, 'clientHeight', { configurable: true, get: () => 300 })
    log.scrollTop = 100
    lastClient().room.emit('message', msg('while away'))
    const jump = part(el, '[part=new-messages]')
    jump.focus()
    jump.click()
    expect(jump.hidden).toBe(true)
    expect(shadow(el).activeElement).toBe(log)
  })

  it('follows new messages when the reader is at the bottom', () => {
    const el = inline()
    joinedClient()
    const log = part(el, '[part=log]')
    Object.defineProperty(log, 'scrollHeight', { configurable: true, get: () => 1000 })
    Object.defineProperty(log, 'clientHeight', { configurable: true, get: () => 300 })
    log.scrollTop = 700
    lastClient().room.emit('message', msg('next'))
    expect(part(el, '[part=new-messages]').hidden).toBe(true)
    expect(log.scrollTop).toBe(1000)
  })
})

/** Makes the next message get offset `n`. */
function offsetTo(n: number): void {
  resetOffsets()
  for (let i = 1; i < n; i++) msg('skip')
}

describe('refusals explain themselves', () => {
  function type(el: ConfabChat, text: string): void {
    const input = part<HTMLTextAreaElement>(el, '[part=input]')
    input.value = text
    input.dispatchEvent(new Event('input', { bubbles: true }))
    input.dispatchEvent(new KeyboardEvent('keydown', { key: 'Enter', bubbles: true }))
  }

  it("holds a draft over the relay's announced maxText, says by how much, and sends nothing", () => {
    const el = inline()
    const client = joinedClient()
    Object.assign(client, { limits: { maxText: 20 } })
    const input = part<HTMLTextAreaElement>(el, '[part=input]')
    type(el, 'x'.repeat(25))
    expect(client.room.sends).toHaveLength(0)
    expect(input.value).toBe('x'.repeat(25))
    expect(part(el, '[part=composer-note]').textContent).toBe('Too long: 25 of 20 characters')
    expect(input.getAttribute('aria-invalid')).toBe('true')
    expect(input.getAttribute('aria-describedby')).toBe(part(el, '[part=composer-note]').id)
    expect(part(el, '[part=send-button]').getAttribute('aria-disabled')).toBe('true')
    type(el, 'x'.repeat(20))
    expect(client.room.sends.map((s) => s.text)).toEqual(['x'.repeat(20)])
    expect(part(el, '[part=composer-note]').textContent).toBe('')
    expect(part(el, '[part=send-button]').hasAttribute('aria-disabled')).toBe(false)
  })

  it('assumes the default 4,000 characters from a client that does not tell its limits', () => {
    const el = inline()
    const client = joinedClient()
    type(el, 'y'.repeat(4001))
    expect(client.room.sends).toHaveLength(0)
    expect(part(el, '[part=composer-note]').textContent).toBe('Too long: 4,001 of 4,000 characters')
  })

  it('says why the relay refused a message as too long, and offers no Retry that would fail again', async () => {
    const el = inline()
    const client = joinedClient()
    Object.assign(client, { limits: { maxText: 4000 } })
    el.send('refused').catch(() => undefined)
    client.room.sends[0]?.reject(Object.assign(new Error('text is longer than 4000 characters'), { code: 'too_large' }))
    await expect.poll(() => shadow(el).querySelector('.failed')).not.toBeNull()
    expect(part(el, '[part~=message-state]').textContent).toBe('Not sent: longer than 4,000 characters')
    expect(part(el, '[part~=message-state]').getAttribute('part')).toBe('message-state message-failed message-refused')
    expect(shadow(el).querySelector('[part=retry-button]')).toBeNull()
  })

  it('names no number for a too-long refusal when the client does not tell the limits', async () => {
    const el = inline()
    const client = joinedClient()
    el.send('refused').catch(() => undefined)
    client.room.sends[0]?.reject(Object.assign(new Error('text is longer than 20 characters'), { code: 'too_large' }))
    await expect.poll(() => shadow(el).querySelector('.failed')).not.toBeNull()
    expect(part(el, '[part~=message-state]').textContent).toBe('Not sent: too long for this chat')
  })

  it('in a room the relay refuses: says so, shows no "Say hello!", and disables the composer', () => {
    const el = inline()
    const client = lastClient()
    client.setStatus('open')
    const errors: unknown[] = []
    el.addEventListener('confab-error', (e) => errors.push(e.detail.error))
    const refusal = Object.assign(new Error('not allowed in this room'), { code: 'forbidden' })
    client.emit('error', refusal)
    expect(part(el, '[part=banner]').textContent).toBe("You don't have access to this room.")
    expect(part(el, '[part=empty]').hidden).toBe(true)
    expect(part<HTMLTextAreaElement>(el, '[part=input]').disabled).toBe(true)
    expect(part<HTMLButtonElement>(el, '[part=send-button]').disabled).toBe(true)
    expect(part(el, '[part=log]').getAttribute('aria-busy')).toBe('false')
    expect(errors).toEqual([refusal])
    // Allowed after all (a later join succeeds): the room works again.
    client.room.emit('presence', [ME])
    expect(part(el, '[part=banner]').textContent).toBe('')
    expect(part(el, '[part=empty]').hidden).toBe(false)
    expect(part<HTMLTextAreaElement>(el, '[part=input]').disabled).toBe(false)
  })

  it('names a refused token instead of only "Disconnected", and disables the composer', () => {
    const el = inline()
    const client = lastClient()
    client.emit('error', Object.assign(new Error('invalid token'), { code: 'unauthorized' }))
    client.setStatus('closed')
    expect(part(el, '[part=banner]').textContent).toBe(
      'Your sign-in was not accepted, so the chat is unavailable. Reload the page to try again.',
    )
    expect(part<HTMLTextAreaElement>(el, '[part=input]').disabled).toBe(true)
  })

  it('names a refused origin, and says "Disconnected" for a plain close', () => {
    const el = inline()
    const client = lastClient()
    client.emit('error', Object.assign(new Error('origin not allowed'), { code: 'forbidden' }))
    client.setStatus('closed')
    expect(part(el, '[part=banner]').textContent).toBe('This chat is not available on this site.')
    const other = inline()
    lastClient().setStatus('closed')
    expect(part(other, '[part=banner]').textContent).toBe('Disconnected')
    expect(part<HTMLButtonElement>(other, '[part=send-button]').disabled).toBe(true)
  })

  it('takes every refusal text from strings, so a locale can replace it', () => {
    const el = inline()
    el.strings = { forbidden: 'Kein Zutritt.' }
    lastClient().setStatus('open')
    lastClient().emit('error', Object.assign(new Error('no'), { code: 'forbidden' }))
    expect(part(el, '[part=banner]').textContent).toBe('Kein Zutritt.')
  })
})

describe('layout of the list', () => {
  it('gives a sender name its whole text as a tooltip, since a long one ends in "…" on screen', () => {
    const el = inline()
    lastClient().room.emit('message', msg('hi', { id: 'u-w', name: 'W'.repeat(40) }))
    lastClient().room.emit('message', msg('mine', ME))
    const authors = [...shadow(el).querySelectorAll('[part=author]')].map((a) => a.getAttribute('title'))
    expect(authors).toEqual(['W'.repeat(40), null])
  })

  it('hides the online count while not connected', () => {
    const el = inline()
    const client = joinedClient([ME, { id: 'u-k', name: 'Kira' }])
    expect(part(el, '[part=presence]').textContent).toBe('2 online')
    client.setStatus('reconnecting')
    expect(part(el, '[part=presence]').textContent).toBe('')
    client.setStatus('open')
    expect(part(el, '[part=presence]').textContent).toBe('2 online')
  })

  it('collapses a very tall message behind an accessible "Show more" button', () => {
    const el = inline()
    const room = lastClient().room
    room.emit('message', msg(Array.from({ length: 600 }, (_, i) => `line ${i}`).join('\n')))
    room.emit('message', msg('short'))
    const toggles = shadow(el).querySelectorAll('[part=show-more]')
    expect(toggles).toHaveLength(1)
    const toggle = toggles[0] as HTMLButtonElement
    const bubble = shadow(el).getElementById(toggle.getAttribute('aria-controls') ?? '')
    expect(bubble?.classList.contains('clamped')).toBe(true)
    expect([toggle.textContent, toggle.getAttribute('aria-expanded'), toggle.type]).toEqual([
      'Show more',
      'false',
      'button',
    ])
    toggle.click()
    expect(bubble?.classList.contains('clamped')).toBe(false)
    expect([toggle.textContent, toggle.getAttribute('aria-expanded')]).toEqual(['Show less', 'true'])
    toggle.click()
    expect(bubble?.classList.contains('clamped')).toBe(true)
  })

  it('collapses one very long line too, and leaves a message of a few lines alone', () => {
    const el = inline()
    lastClient().room.emit('message', msg('w'.repeat(1500)))
    lastClient().room.emit('message', msg('a\nb\nc\nd'))
    expect(shadow(el).querySelectorAll('.clamped')).toHaveLength(1)
  })

  it('after a resumed join (position restored on another page), loads the latest page that the join did not bring', async () => {
    // What the SDK does: a client made with a stored position joins from it, and gets only what followed.
    FakeClient.restore = { epoch: 'e1', offset: 8 }
    try {
      const el = inline()
      const room = lastClient().room
      offsetTo(9)
      room.emit('message', msg('nine'))
      room.historyResult = [msg('seven', ME, { offset: 7 }), msg('eight', ME, { offset: 8 })]
      joinedClient()
      await expect.poll(() => bubbles(el)).toEqual(['seven', 'eight', 'nine'])
      expect(room.historyCalls).toEqual([{ before: 9, limit: 50 }])
      expect(shadow(el).querySelectorAll('[part~=message-own]')).toHaveLength(2)
    } finally {
      FakeClient.restore = undefined
    }
  })

  it('a fresh join, with its own history, asks for no extra page', () => {
    const el = inline()
    lastClient().room.emit('message', msg('n5', undefined, { offset: 5 }))
    joinedClient()
    expect(lastClient().room.historyCalls).toEqual([])
    expect(bubbles(el)).toEqual(['n5'])
  })
})
