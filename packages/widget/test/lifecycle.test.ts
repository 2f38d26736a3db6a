// Messages that change (issue 14) in <confab-chat>, with a scripted client: edited, deleted and reacted-to messages,
// the Edit, Delete and reaction controls, day separators, "Seen" and the unread badge from the relay's count.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import type { Message } from '../src/client'
import type { ConfabChat } from '../src/element'
import { locales } from '../src/strings'
import { msg, resetOffsets } from './fake'
import { bubbles, cleanup, joinedClient, lastClient, mount, part, shadow } from './helpers'

const ME = { id: 'u-me', name: 'Me' }
const ROOM = 'conv:AAAAAAAAAAAAAAAAAAAAAA'

beforeEach(resetOffsets)
afterEach(() => {
  cleanup()
  vi.useRealTimers()
})

function inline(attrs: Record<string, string> = {}): ConfabChat {
  return mount({ name: 'Me', mode: 'inline', ...attrs })
}

function $<T extends HTMLElement = HTMLElement>(el: ConfabChat, selector: string): T[] {
  return [...shadow(el).querySelectorAll<T>(selector)]
}

/** The message element with this offset. */
function item(el: ConfabChat, offset: number): HTMLElement {
  return part(el, `.msg[data-offset="${offset}"]`)
}

const key = (target: HTMLElement, k: string, extra: KeyboardEventInit = {}): void => {
  target.dispatchEvent(new KeyboardEvent('keydown', { key: k, bubbles: true, composed: true, ...extra }))
}

const focused = (el: ConfabChat): Element | null => shadow(el).activeElement

describe('the state of a message', () => {
  it('shows an edited message with its new text and an "edited" marker', () => {
    const el = inline()
    const room = lastClient().room
    const m = msg('helo')
    room.emit('message', m)
    expect($(el, '[part=edited]')).toHaveLength(0)
    room.emit('update', { ...m, text: 'hello', editedAt: m.ts + 1000 })
    expect(bubbles(el)).toEqual(['hello'])
    expect(part(el, '[part=edited]').textContent).toBe('edited')
  })

  it('shows history that was edited before it arrived as edited', () => {
    const el = inline()
    lastClient().room.emit('message', msg('fixed', undefined, { editedAt: Date.now() }))
    expect(part(el, '[part=edited]').textContent).toBe('edited')
  })

  it('turns a deleted message into a "Message deleted" tombstone without text, reactions or actions', () => {
    const el = inline()
    const room = lastClient().room
    const m = msg('oops', ME, { reactions: { '👍': { count: 1 } } })
    room.emit('message', m)
    expect($(el, '[part=reaction]')).toHaveLength(1)
    expect($(el, '[part=message-actions]')).toHaveLength(1)
    room.emit('update', { ...m, text: '', deleted: true, reactions: undefined } as unknown as Message)
    const bubble = part(el, '[part~=bubble]')
    expect(bubble.textContent).toBe('Message deleted')
    expect(bubble.getAttribute('part')).toBe('bubble message-deleted')
    expect($(el, '[part=reaction], [part=message-actions], [part=edited]')).toHaveLength(0)
    // Its place, sender and time stay.
    expect(item(el, m.offset).querySelector('.author')?.textContent).toBe('You')
  })

  it('shows a message deleted before it arrived as a tombstone', () => {
    const el = inline()
    lastClient().room.emit('message', msg('', undefined, { deleted: true }))
    expect(part(el, '[part~=bubble]').textContent).toBe('Message deleted')
  })

  it("shows reaction counts as toggle buttons, pressed for the user's own, and updates them in place", () => {
    const el = inline()
    const room = lastClient().room
    const m = msg('nice', undefined, { reactions: { '👍': { count: 2, mine: true }, '🎉': { count: 1 } } })
    room.emit('message', m)
    const chips = $(el, '[part=reaction]')
    expect(chips.map((c) => c.textContent)).toEqual(['👍 2', '🎉 1'])
    expect(chips.map((c) => c.getAttribute('aria-pressed'))).toEqual(['true', 'false'])
    expect(chips.every((c) => c.tagName === 'BUTTON')).toBe(true)
    room.emit('update', { ...m, reactions: { '👍': { count: 3, mine: true } } })
    const after = $(el, '[part=reaction]')
    expect(after.map((c) => c.textContent)).toEqual(['👍 3'])
    // The same button, not a new one: focus on it would survive.
    expect(after[0]).toBe(chips[0])
  })

  it('leaves an update for a message not on screen alone', () => {
    const el = inline()
    lastClient().room.emit('update', msg('elsewhere', undefined, { offset: 99, editedAt: 1 }))
    expect(bubbles(el)).toEqual([])
  })
})

describe('edit, delete and react', () => {
  it("offers Edit and Delete on the user's own stored messages only, and a reaction button on every message", () => {
    const el = inline()
    const room = lastClient().room
    room.emit('message', msg('theirs'))
    room.emit('message', msg('mine', ME))
    const tools = (offset: number) =>
      [...item(el, offset).querySelectorAll('[part=message-actions] button')].map((b) => b.getAttribute('aria-label'))
    expect(tools(1)).toEqual(['Add reaction'])
    expect(tools(2)).toEqual(['Add reaction', 'Edit', 'Delete'])
  })

  it('offers no actions while a message is being sent, and offers them once it is stored', async () => {
    const el = inline()
    joinedClient()
    const room = lastClient().room
    void el.send('hello')
    expect($(el, '[part=message-actions]')).toHaveLength(0)
    room.sends[0]!.resolve(msg('hello', ME))
    await Promise.resolve()
    expect($(el, '[part=message-actions] button').map((b) => b.getAttribute('aria-label'))).toEqual([
      'Add reaction',
      'Edit',
      'Delete',
    ])
  })

  it('offers no actions when the client cannot change messages (a custom client without edit/delete/react)', () => {
    const el = inline()
    const room = lastClient().room
    Object.assign(room, { react: undefined })
    room.emit('message', msg('hi'))
    expect($(el, '[part=message-actions]')).toHaveLength(0)
  })

  it('edits inline: Edit puts the text in an editor, Enter saves, and the new text shows at once', async () => {
    const el = inline()
    const room = lastClient().room
    room.emit('message', msg('helo', ME))
    part(el, '[data-a=edit]').click()
    const input = part<HTMLTextAreaElement>(el, '[part=editor] textarea')
    expect(focused(el)).toBe(input)
    expect(input.value).toBe('helo')
    expect(input.getAttribute('aria-label')).toBe('Edit message')
    input.value = 'hello'
    key(input, 'Enter')
    expect(room.changes).toMatchObject([{ action: 'edit', offset: 1, arg: 'hello' }])
    expect($(el, '[part=editor]')).toHaveLength(0)
    expect(bubbles(el)).toEqual(['hello'])
    expect(part(el, '[part=edited]').textContent).toBe('edited')
    // Focus goes back to the Edit button it came from.
    expect(focused(el)).toBe(part(el, '[data-a=edit]'))
  })

  it('Escape cancels an edit (and does not close the panel); Shift+Enter is a new line', () => {
    const el = mount({ name: 'Me', open: '' })
    const room = lastClient().room
    room.emit('message', msg('same', ME))
    part(el, '[data-a=edit]').click()
    const input = part<HTMLTextAreaElement>(el, '[part=editor] textarea')
    key(input, 'Enter', { shiftKey: true })
    expect($(el, '[part=editor]')).toHaveLength(1)
    input.value = 'changed'
    key(input, 'Escape')
    expect($(el, '[part=editor]')).toHaveLength(0)
    expect(el.opened).toBe(true)
    expect(room.changes).toHaveLength(0)
    expect(bubbles(el)).toEqual(['same'])
  })

  it('puts an edit the relay refused back as it was and says so in the composer note', async () => {
    const el = inline()
    const errors: unknown[] = []
    el.addEventListener('confab-error', (e) => errors.push(e.detail.error))
    const room = lastClient().room
    room.emit('message', msg('before', ME))
    part(el, '[data-a=edit]').click()
    const input = part<HTMLTextAreaElement>(el, '[part=editor] textarea')
    input.value = 'after'
    key(input, 'Enter')
    expect(bubbles(el)).toEqual(['after'])
    room.changes[0]!.reject(Object.assign(new Error('too late'), { code: 'forbidden' }))
    await Promise.resolve()
    await Promise.resolve()
    expect(bubbles(el)).toEqual(['before'])
    expect($(el, '[part=edited]')).toHaveLength(0)
    expect(part(el, '[part=composer-note]').textContent).toBe("Couldn't change the message. Try again.")
    expect(errors).toHaveLength(1)
  })

  it('asks before deleting: Cancel (focused first) keeps the message, Delete makes it a tombstone', async () => {
    const el = inline()
    const room = lastClient().room
    const m = msg('regret', ME)
    room.emit('message', m)
    part(el, '[data-a=delete]').click()
    const confirm = part(el, '[part=confirm-delete]')
    expect(confirm.getAttribute('role')).toBe('group')
    expect(confirm.getAttribute('aria-label')).toBe('Delete this message?')
    const [yes, no] = [...confirm.querySelectorAll('button')]
    expect([yes!.textContent, no!.textContent]).toEqual(['Delete', 'Cancel'])
    expect(focused(el)).toBe(no)
    no!.click()
    expect($(el, '[part=confirm-delete]')).toHaveLength(0)
    expect(focused(el)).toBe(part(el, '[data-a=delete]'))
    expect(room.changes).toHaveLength(0)

    part(el, '[data-a=delete]').click()
    key(part(el, '[part=confirm-delete] .later'), 'Escape')
    expect($(el, '[part=confirm-delete]')).toHaveLength(0)

    part(el, '[data-a=delete]').click()
    part(el, '[part=confirm-delete] .danger').click()
    expect(room.changes).toMatchObject([{ action: 'delete', offset: m.offset }])
    expect(part(el, '[part~=bubble]').textContent).toBe('Message deleted')
    // The buttons went away with the message: focus is on the list, not lost to the page.
    expect(focused(el)).toBe(part(el, '[part=log]'))
    room.changes[0]!.resolve({ ...m, text: '', deleted: true })
    await Promise.resolve()
    expect(part(el, '[part~=bubble]').textContent).toBe('Message deleted')
  })

  it("reacts from the picker: the count shows at once, pressed, and the relay's answer settles it", async () => {
    const el = inline()
    const room = lastClient().room
    const m = msg('party', undefined, { reactions: { '🎉': { count: 1 } } })
    room.emit('message', m)
    const button = part(el, '[data-a=react]')
    button.click()
    expect(button.getAttribute('aria-expanded')).toBe('true')
    const picker = part(el, '[part=reaction-picker]')
    expect(picker.getAttribute('aria-label')).toBe('Add reaction')
    const emoji = [...picker.querySelectorAll('button')]
    expect(emoji.map((b) => b.textContent)).toEqual(['👍', '❤️', '😂', '😮', '😢', '🎉'])
    expect(focused(el)).toBe(emoji[0])
    emoji[5]!.click()
    expect($(el, '[part=reaction-picker]')).toHaveLength(0)
    expect(focused(el)).toBe(button)
    expect(button.getAttribute('aria-expanded')).toBe('false')
    expect(room.changes).toMatchObject([{ action: 'react', offset: 1, arg: '🎉' }])
    const chip = part(el, '[part=reaction]')
    expect(chip.textContent).toBe('🎉 2')
    expect(chip.getAttribute('aria-pressed')).toBe('true')
    room.changes[0]!.resolve({ ...m, reactions: { '🎉': { count: 2, mine: true } } })
    await Promise.resolve()
    expect(part(el, '[part=reaction]').textContent).toBe('🎉 2')
  })

  it("toggles off the user's own reaction from its count button; a count that reaches 0 disappears", () => {
    const el = inline()
    const room = lastClient().room
    room.emit('message', msg('ok', undefined, { reactions: { '👍': { count: 1, mine: true } } }))
    const chip = part(el, '[part=reaction]')
    chip.focus()
    chip.click()
    expect(room.changes).toMatchObject([{ action: 'react', offset: 1, arg: '👍' }])
    expect($(el, '[part=reaction]')).toHaveLength(0)
    // Focus moves to the message's reaction button rather than to the page.
    expect(focused(el)).toBe(part(el, '[data-a=react]'))
  })

  it('closes the picker with Escape, back on its button, without closing the panel', () => {
    const el = mount({ name: 'Me', open: '' })
    lastClient().room.emit('message', msg('hi'))
    part(el, '[data-a=react]').click()
    key(part(el, '[part=reaction-picker] button'), 'Escape')
    expect($(el, '[part=reaction-picker]')).toHaveLength(0)
    expect(focused(el)).toBe(part(el, '[data-a=react]'))
    expect(el.opened).toBe(true)
  })
})

describe('languages', () => {
  it('relabels the actions, markers and tombstones already shown when lang changes', async () => {
    locales.de = (await import('../src/locales/de')).default
    const el = inline()
    const room = lastClient().room
    room.emit('message', msg('fixed', ME, { editedAt: 1 }))
    room.emit('message', msg('', undefined, { deleted: true }))
    el.lang = 'de'
    expect($(el, '[part=message-actions] button').map((b) => b.getAttribute('aria-label'))).toEqual([
      'Reaktion hinzufügen',
      'Bearbeiten',
      'Löschen',
    ])
    expect(part(el, '[part=edited]').textContent).toBe('bearbeitet')
    expect(part(el, '[part~=message-deleted]').textContent).toBe('Nachricht gelöscht')
    delete locales.de
  })
})

describe('days and dates', () => {
  it('puts a separator before the first message of each day, and none between messages of one day', () => {
    vi.useFakeTimers({ now: new Date(2026, 5, 10, 15, 0), toFake: ['Date'] })
    const el = inline({ lang: 'en' })
    const room = lastClient().room
    room.emit('message', msg('old', undefined, { ts: new Date(2025, 11, 31, 9, 0).getTime() }))
    room.emit('message', msg('monday', undefined, { ts: new Date(2026, 5, 8, 9, 0).getTime() }))
    room.emit('message', msg('yesterday', undefined, { ts: new Date(2026, 5, 9, 9, 0).getTime() }))
    room.emit('message', msg('today 1', undefined, { ts: new Date(2026, 5, 10, 9, 0).getTime() }))
    room.emit('message', msg('today 2', undefined, { ts: new Date(2026, 5, 10, 9, 1).getTime() }))
    const days = $(el, '[part=day]').map((d) => d.textContent)
    expect(days).toEqual(['Wednesday, December 31, 2025', 'Monday, June 8', 'Yesterday', 'Today'])
    const order = $(el, '[part=day], [part~=message]').map((x) => x.getAttribute('part'))
    expect(order).toEqual(['day', 'message', 'day', 'message', 'day', 'message', 'day', 'message', 'message'])
    // Messages from another day carry their date too (the separator may be far above); today's only the time.
    const times = $(el, '[part=time]').map((t) => t.textContent)
    expect(times[1]).toBe('Jun 8, 9:00 AM')
    expect(times[4]).toBe('9:01 AM')
  })

  it('keeps one separator when an earlier page of the same day is prepended', async () => {
    vi.useFakeTimers({ now: new Date(2026, 5, 10, 15, 0), toFake: ['Date'] })
    const el = inline({ lang: 'en' })
    const client = lastClient()
    const at = (h: number) => new Date(2026, 5, 10, h, 0).getTime()
    client.room.emit('message', msg('b', undefined, { offset: 60, ts: at(12) }))
    joinedClient()
    client.room.historyResult = [msg('a', undefined, { offset: 59, ts: at(11) })]
    part(el, '[part=load-earlier]').click()
    await Promise.resolve()
    await Promise.resolve()
    expect(bubbles(el)).toEqual(['a', 'b'])
    expect($(el, '[part=day]').map((d) => d.textContent)).toEqual(['Today'])
    expect(shadow(el).querySelector('[part=day]')?.nextElementSibling?.textContent).toContain('a')
  })

  it("writes separators in the widget's language", () => {
    vi.useFakeTimers({ now: new Date(2026, 5, 10, 15, 0), toFake: ['Date'] })
    const el = inline({ lang: 'de' })
    lastClient().room.emit('message', msg('heute', undefined, { ts: new Date(2026, 5, 10, 9, 0).getTime() }))
    lastClient().room.emit('message', msg('früher', undefined, { ts: new Date(2026, 5, 11, 9, 0).getTime() }))
    expect($(el, '[part=day]')[0]!.textContent).toBe('Heute')
    el.lang = 'fr'
    expect($(el, '[part=day]')[0]!.textContent).toBe('Aujourd’hui')
  })
})

describe('Seen (conversation mode)', () => {
  async function conversation(): Promise<ConfabChat> {
    const el = mount({ conversation: '', mode: 'inline', relay: 'wss://r.example' })
    const client = lastClient()
    client.setStatus('open')
    client.conversations.at(-1)!.resolve(ROOM)
    await Promise.resolve()
    await Promise.resolve()
    return el
  }

  it('shows "Seen" under the last own message once an operator has read up to it, and moves on', async () => {
    const el = await conversation()
    const room = lastClient().room
    room.emit('message', msg('question', ME))
    room.emit('message', msg('more detail', ME))
    room.reads = [{ user: 'op_1', offset: 1 }]
    room.emit('presence', [ME])
    // Read up to the first only: the last own message is not seen yet.
    expect($(el, '[part=seen]')).toHaveLength(0)
    // The furthest position counts, wherever it is in the list (the SDK keeps the most recent first).
    room.reads = [
      { user: 'op_2', offset: 1 },
      { user: 'op_1', offset: 2 },
    ]
    room.emit('read', room.reads)
    expect($(el, '[part=seen]')).toHaveLength(1)
    expect(item(el, 2).querySelector('[part=seen]')?.textContent).toBe('Seen')
    // A newer own message is not seen yet: the marker goes.
    room.emit('message', msg('anyone?', ME))
    expect($(el, '[part=seen]')).toHaveLength(0)
    room.reads = [{ user: 'op_2', offset: 3 }]
    room.emit('read', room.reads)
    expect($(el, '[part=seen]')).toHaveLength(1)
    expect(item(el, 3).querySelector('[part=seen]')).not.toBeNull()
  })

  it('shows no "Seen" in room mode', () => {
    const el = inline()
    const room = lastClient().room
    room.emit('message', msg('hi', ME))
    room.reads = [{ user: 'u-kira', offset: 1 }]
    room.emit('read', room.reads)
    expect($(el, '[part=seen]')).toHaveLength(0)
  })
})

describe('the unread badge', () => {
  it("shows the relay's unread count (room.unread), so it survives a reload", () => {
    sessionStorage.setItem('confab:active:wss://r.example#lobby', '1')
    const el = mount({ name: 'Me', relay: 'wss://r.example' })
    const client = lastClient()
    expect(client.rooms).toHaveLength(1)
    client.setStatus('open')
    // The join said 3 messages arrived since this user last read the room (in this tab or another).
    client.room.unread = 3
    client.room.emit('presence', [ME])
    const badge = part(el, '[part=badge]')
    expect(badge.hidden).toBe(false)
    expect(badge.textContent).toBe('3')
    expect(part(el, '[part=launcher]').getAttribute('aria-label')).toBe('Open chat, 3 unread')
    // Closed: nothing is marked read.
    expect(client.room.markReads).toBe(0)
    client.room.unread = 4
    client.room.emit('message', msg('one more'))
    expect(badge.textContent).toBe('4')
    // Read in another tab: the SDK's count drops and the badge follows.
    client.room.unread = 0
    client.room.emit('read', [])
    expect(badge.hidden).toBe(true)
  })

  it('marks the room read when the panel opens and while it is open and the tab visible, in room mode too', () => {
    const el = mount({ name: 'Me' })
    el.open()
    const client = joinedClient()
    const room = client.room
    const before = room.markReads
    room.emit('message', msg('live'))
    expect(room.markReads).toBe(before + 1)
    el.close()
    room.emit('message', msg('while closed'))
    expect(room.markReads).toBe(before + 1)
    el.open()
    expect(room.markReads).toBe(before + 2)
  })

  it('marks read when a hidden tab with the panel open comes to the front', () => {
    let state: DocumentVisibilityState = 'hidden'
    vi.spyOn(document, 'visibilityState', 'get').mockImplementation(() => state)
    const el = inline()
    const room = joinedClient().room
    room.emit('message', msg('while away'))
    expect(room.markReads).toBe(0)
    state = 'visible'
    document.dispatchEvent(new Event('visibilitychange'))
    expect(room.markReads).toBe(1)
    el.remove()
    document.dispatchEvent(new Event('visibilitychange'))
    expect(room.markReads).toBe(1)
    vi.restoreAllMocks()
  })
})
