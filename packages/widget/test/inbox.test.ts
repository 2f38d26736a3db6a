// <confab-inbox> with a scripted client: sign-in from the #key= link, the list and its filters, live index updates,
// and the open conversation (history, reply, assign, close).
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import type { Conversation } from '../src/inbox/client'
import { ConfabInbox } from '../src/inbox/element'
import { FakeClient, msg } from './fake'

ConfabInbox.define()

/** The inbox's fake client: answers `conversations` from `index`, records every request. */
class InboxFake extends FakeClient {
  index: Conversation[] = []
  readonly frames: Record<string, unknown>[] = []
  override async request(frame: Record<string, unknown>): Promise<unknown> {
    this.frames.push(frame)
    if (frame.type === 'conversations') {
      const items = this.index.filter(
        (c) =>
          c.status === frame.status &&
          (frame.assignee === undefined ||
            (frame.assignee === 'none' ? c.assignee === null : c.assignee?.id === frame.assignee)),
      )
      return { type: 'conversations', items, cursor: null }
    }
    if (frame.type === 'update-conversation') {
      const c = this.index.find((x) => x.id === frame.id)!
      if (frame.status) c.status = frame.status as 'open' | 'closed'
      if ('assignee' in frame) c.assignee = frame.assignee ? { id: String(frame.assignee), name: 'Ana' } : null
      return { type: 'conversation', conversation: { ...c } }
    }
    return {}
  }
}

const opened: { url: string; options: Record<string, unknown>; client: InboxFake }[] = []
ConfabInbox.connect = (url, options) => {
  const client = new InboxFake()
  client.user = { id: 'op_me', name: 'Ana' }
  opened.push({ url, options, client })
  return client as never
}

function conv(id: string, extra: Partial<Conversation> = {}): Conversation {
  return {
    id,
    room: `conv:${id}`,
    visitor: { id: `v-${id}`, name: `Visitor ${id}` },
    createdAt: Date.now() - 60_000,
    lastActivityAt: Date.now() - 60_000,
    preview: `hello from ${id}`,
    status: 'open',
    assignee: null,
    unread: { visitor: 0, operators: 1 },
    ...extra,
  }
}

const tick = (): Promise<void> => new Promise((r) => setTimeout(r, 0))

let el: ConfabInbox
const $ = <T extends Element = HTMLElement>(s: string): T => el.shadowRoot!.querySelector<T>(s)!
const rows = (): string[] => [...el.shadowRoot!.querySelectorAll('.row .name')].map((n) => n.textContent ?? '')

beforeEach(() => {
  history.replaceState(null, '', '/inbox#key=k3y')
  localStorage.setItem('confab:inbox:name', 'Ana')
})

afterEach(() => {
  document.body.replaceChildren()
  opened.length = 0
  localStorage.clear()
  sessionStorage.clear()
})

async function signedIn(index: Conversation[]): Promise<InboxFake> {
  el = document.createElement('confab-inbox') as ConfabInbox
  document.body.append(el)
  const client = opened.at(-1)!.client
  client.index = index
  client.setStatus('open')
  await tick()
  return client
}

describe('<confab-inbox>', () => {
  it('signs in with the key of the #key= link, keeps it in sessionStorage and takes it out of the address bar', async () => {
    await signedIn([])
    expect(opened[0]!.options).toMatchObject({ key: 'k3y', name: 'Ana' })
    expect(sessionStorage.getItem('confab:inbox:key')).toBe('k3y')
    expect(location.hash).toBe('')
  })

  it('without a key says to open the sign-in link, and connects nowhere', () => {
    history.replaceState(null, '', '/inbox')
    el = document.createElement('confab-inbox') as ConfabInbox
    document.body.append(el)
    expect(opened).toHaveLength(0)
    expect($('.gate-text').hidden).toBe(false)
    expect($('.gate-text').textContent).toContain('#key=')
  })

  it('asks the operator name once, then connects with it', () => {
    localStorage.clear()
    el = document.createElement('confab-inbox') as ConfabInbox
    document.body.append(el)
    expect(opened).toHaveLength(0)
    $<HTMLInputElement>('#opname').value = 'Bo'
    $<HTMLFormElement>('.gate-form').requestSubmit()
    expect(opened[0]!.options).toMatchObject({ name: 'Bo' })
    expect(localStorage.getItem('confab:inbox:name')).toBe('Bo')
  })

  it('lists open conversations newest first with name, unread count, preview and age', async () => {
    const older = conv('a', { lastActivityAt: Date.now() - 3 * 3600_000 })
    const newer = conv('b', { unread: { visitor: 0, operators: 3 } })
    await signedIn([older, newer])
    expect(rows()).toEqual(['Visitor b', 'Visitor a'])
    const first = $('.row')
    expect(first.querySelector('.count')?.textContent).toBe('3')
    expect(first.querySelector('.preview')?.textContent).toBe('hello from b')
    // Screen readers hear the unread count written out, in the row's own text (its accessible name).
    expect(first.textContent).toContain('3 unread')
  })

  it('filters: closed, unassigned and mine ask the relay with the matching query', async () => {
    const client = await signedIn([
      conv('a'),
      conv('b', { status: 'closed' }),
      conv('c', { assignee: { id: 'op_me', name: 'Ana' } }),
    ])
    expect(rows()).toEqual(['Visitor a', 'Visitor c'])
    $<HTMLButtonElement>('[data-filter=closed]').click()
    await tick()
    expect(rows()).toEqual(['Visitor b'])
    $<HTMLButtonElement>('[data-filter=unassigned]').click()
    await tick()
    expect(rows()).toEqual(['Visitor a'])
    $<HTMLButtonElement>('[data-filter=mine]').click()
    await tick()
    expect(rows()).toEqual(['Visitor c'])
    expect($('[data-filter=mine]').getAttribute('aria-pressed')).toBe('true')
    expect(client.frames.filter((f) => f.type === 'conversations').at(-1)).toMatchObject({ assignee: 'op_me' })
  })

  it('takes live conversation frames: a new conversation appears at the top, a closed one leaves the open list', async () => {
    const client = await signedIn([conv('a')])
    client.emit('conversation', conv('z', { lastActivityAt: Date.now() }))
    expect(rows()).toEqual(['Visitor z', 'Visitor a'])
    client.emit('conversation', conv('a', { status: 'closed' }))
    expect(rows()).toEqual(['Visitor z'])
  })

  it('shows the online dot from the conversation room presence', async () => {
    const client = await signedIn([conv('a')])
    const room = client.rooms.find((r) => r.name === 'conv:a')!
    expect(room.options).toEqual({ history: 0 })
    room.emit('presence', [{ id: 'v-a', name: 'Visitor a' }])
    expect($('.row .dot').classList.contains('on')).toBe(true)
    room.emit('presence', [])
    expect($('.row .dot').classList.contains('on')).toBe(false)
  })

  it('opens a conversation: history, live messages, typing, reply, mark read, assign and close', async () => {
    const client = await signedIn([conv('a', { visitor: { id: 'v-a', name: 'Kim', email: 'kim@example.com' } })])
    const room = client.rooms.find((r) => r.name === 'conv:a')!
    room.historyResult = [msg('first', { id: 'v-a', name: 'Kim' })]
    $<HTMLButtonElement>('.row').click()
    await tick()
    expect($('.who').textContent).toBe('Kim')
    expect($('.meta').textContent).toContain('kim@example.com')
    expect([...el.shadowRoot!.querySelectorAll('.bubble')].map((b) => b.textContent)).toEqual(['first'])
    expect(room.markReads).toBe(1)
    expect($('.row').hasAttribute('aria-current')).toBe(true)

    room.emit('typing', [{ id: 'v-a', name: 'Kim' }])
    expect($('.typing').textContent).toBe('Kim is typing…')

    $<HTMLTextAreaElement>('#reply').value = 'How can I help?'
    $<HTMLFormElement>('.composer').requestSubmit()
    expect(room.sends.map((s) => s.text)).toEqual(['How can I help?'])
    await tick()
    // Answering an unassigned conversation takes it.
    expect(client.frames).toContainEqual({ type: 'update-conversation', id: 'a', assignee: 'op_me' })

    $<HTMLButtonElement>('.act:not([hidden]):last-child').click()
    await tick()
    expect(client.frames).toContainEqual({ type: 'update-conversation', id: 'a', status: 'closed' })
    expect($('.meta').textContent).toContain('Closed')
    expect($('.act:last-child').textContent).toBe('Reopen')
  })

  it('moves between rows with the arrow keys', async () => {
    await signedIn([conv('a'), conv('b', { lastActivityAt: Date.now() })])
    const [first, second] = el.shadowRoot!.querySelectorAll<HTMLButtonElement>('.row')
    first!.focus()
    first!.dispatchEvent(new KeyboardEvent('keydown', { key: 'ArrowDown', bubbles: true }))
    expect(el.shadowRoot!.activeElement).toBe(second)
  })

  it('shows edited and deleted messages and reaction counts, and follows updates', async () => {
    const client = await signedIn([conv('a')])
    const room = client.rooms.find((r) => r.name === 'conv:a')!
    const kim = { id: 'v-a', name: 'Kim' }
    room.historyResult = [
      msg('fixed typo', kim, { editedAt: Date.now(), reactions: { '👍': { count: 2 } } }),
      msg('', kim, { deleted: true }),
    ]
    $<HTMLButtonElement>('.row').click()
    await tick()
    const items = [...el.shadowRoot!.querySelectorAll<HTMLElement>('.msg')]
    expect(items.map((m) => m.querySelector('.bubble')!.textContent)).toEqual(['fixed typo', 'Message deleted'])
    expect(items[0]!.querySelector('.edited')?.textContent).toBe('edited')
    expect(items[0]!.querySelector('.chip')?.textContent).toBe('👍 2')
    expect(items[1]!.querySelector('.bubble')!.classList.contains('deleted')).toBe(true)
    // A tombstone offers no Delete.
    expect(items[1]!.querySelector('button')).toBeNull()
    const first = room.historyResult[0]!
    room.emit('update', { ...first, text: 'fixed typo again', reactions: undefined } as never)
    expect(items[0]!.querySelector('.bubble')!.textContent).toBe('fixed typo again')
    expect(items[0]!.querySelector('.chip')).toBeNull()
  })

  it('lets an operator delete any message, after confirming; Cancel and Escape keep it', async () => {
    const client = await signedIn([conv('a')])
    const room = client.rooms.find((r) => r.name === 'conv:a')!
    const m = msg('spam', { id: 'v-a', name: 'Kim' })
    room.historyResult = [m]
    $<HTMLButtonElement>('.row').click()
    await tick()
    const item = $('.msg')
    const del = (): HTMLButtonElement => item.querySelector<HTMLButtonElement>('.extra .link')!
    expect(del().textContent).toBe('Delete')
    expect(del().getAttribute('aria-describedby')).toBe(item.querySelector('.bubble')!.id)
    del().click()
    const ask = item.querySelector<HTMLElement>('[role=group]')!
    expect(ask.getAttribute('aria-label')).toBe('Delete this message?')
    // Delete, the question and its Delete are described by the message they are about.
    const text = item.querySelector('.bubble')!
    expect(text.id).not.toBe('')
    for (const control of [ask, item.querySelector('.danger')!]) {
      expect(el.shadowRoot!.getElementById(control.getAttribute('aria-describedby')!)).toBe(text)
    }
    expect(el.shadowRoot!.activeElement?.textContent).toBe('Cancel')
    ask.dispatchEvent(new KeyboardEvent('keydown', { key: 'Escape', bubbles: true }))
    expect(item.querySelector('[role=group]')).toBeNull()
    expect(el.shadowRoot!.activeElement).toBe(del())
    del().click()
    item.querySelector<HTMLButtonElement>('.danger')!.click()
    expect(room.changes).toMatchObject([{ action: 'delete', offset: m.offset }])
    room.changes[0]!.resolve({ ...m, text: '', deleted: true })
    await tick()
    expect(item.querySelector('.bubble')!.textContent).toBe('Message deleted')
    expect(item.querySelector('button')).toBeNull()
  })

  it('says so when the relay refuses a delete, and keeps the message', async () => {
    const client = await signedIn([conv('a')])
    const room = client.rooms.find((r) => r.name === 'conv:a')!
    room.historyResult = [msg('stays', { id: 'v-a', name: 'Kim' })]
    $<HTMLButtonElement>('.row').click()
    await tick()
    $<HTMLButtonElement>('.msg .extra .link').click()
    $<HTMLButtonElement>('.msg .danger').click()
    room.changes[0]!.reject(new Error('not_found'))
    await tick()
    expect($('.msg .bubble').textContent).toBe('stays')
    expect($('.banner').textContent).toBe("Couldn't change the message. Try again.")
  })
})
