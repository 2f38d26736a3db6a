import type { Message } from './client.js'
import { h, ICONS, icon } from './dom.js'
import { EMOJI } from './reactions.js'
import type { Strings } from './strings.js'

/** What a message's actions need: the strings, the state shown, the list (for focus) and what the buttons start. */
export interface ActionHost {
  strings(): Strings
  /** The state the message of `el` is shown in. */
  shown(el: HTMLElement): Message
  /** The message list: it takes focus when the control that had it goes away. */
  list: HTMLElement
  edit(offset: number, text: string): void
  remove(offset: number): void
  react(offset: number, emoji: string): void
}

/** React, and on one's own messages Edit and Delete: shown over the message on hover and while focused. */
export function actions(el: HTMLElement, host: ActionHost): HTMLElement {
  const s = host.strings()
  const bar = h('div', { part: 'message-actions', class: 'tools' })
  const tool = (
    a: 'react' | 'edit' | 'delete',
    d: string,
    run: () => void,
    more: Record<string, string> = {},
  ): void => {
    const b = h('button', { type: 'button', class: 'tool', 'data-a': a, 'aria-label': s[a], ...more }, icon(d))
    b.addEventListener('click', run)
    bar.append(b)
  }
  tool('react', ICONS.smile, () => picker(el, host), { 'aria-expanded': 'false' })
  if (el.classList.contains('own')) {
    tool('edit', ICONS.edit, () => editor(el, host))
    tool('delete', ICONS.trash, () => confirm(el, host))
  }
  return bar
}

/** A row of emoji under the message; Escape closes it and returns focus to the button that opened it. */
function picker(el: HTMLElement, host: ActionHost): void {
  const button = el.querySelector<HTMLElement>('[data-a=react]')!
  const open = el.querySelector('.picker')
  if (open) {
    open.remove()
    button.setAttribute('aria-expanded', 'false')
    return
  }
  const close = (): void => {
    pick.remove()
    button.setAttribute('aria-expanded', 'false')
    button.focus()
  }
  const pick = h('div', {
    role: 'group',
    'aria-label': host.strings().react,
    part: 'reaction-picker',
    class: 'picker',
  })
  for (const emoji of EMOJI) {
    const b = h('button', { type: 'button' }, emoji)
    b.addEventListener('click', () => {
      close()
      host.react(host.shown(el).offset, emoji)
    })
    pick.append(b)
  }
  onEscape(pick, close)
  button.setAttribute('aria-expanded', 'true')
  el.append(pick)
  pick.querySelector('button')!.focus()
}

/** Puts the message's text in an inline editor: Enter saves, Shift+Enter is a new line, Escape cancels. */
function editor(el: HTMLElement, host: ActionHost): void {
  if (el.querySelector('.editor')) return
  const s = host.strings()
  const m = host.shown(el)
  const bubble = el.querySelector<HTMLElement>('.bubble')!
  const input = h('textarea', { 'aria-label': s.editLabel, dir: 'auto', rows: '2' })
  input.value = m.text
  const save = h('button', { type: 'button', class: 'start' }, s.save)
  const cancel = h('button', { type: 'button', class: 'later' }, s.cancel)
  const form = h('div', { part: 'editor', class: 'editor' }, input, save, cancel)
  const done = (text?: string): void => {
    form.remove()
    bubble.hidden = false
    el.querySelector<HTMLElement>('[data-a=edit]')?.focus()
    if (text && text !== m.text) host.edit(m.offset, text)
  }
  save.addEventListener('click', () => done(input.value.trim()))
  cancel.addEventListener('click', () => done())
  input.addEventListener('keydown', (event) => {
    if (event.key === 'Enter' && !event.shiftKey && !event.isComposing) {
      event.preventDefault()
      done(input.value.trim())
    }
  })
  onEscape(form, () => done())
  bubble.hidden = true
  bubble.after(form)
  input.focus()
  input.setSelectionRange(input.value.length, input.value.length)
}

/** "Delete this message?" with Delete and Cancel under the message; focus starts on Cancel. */
function confirm(el: HTMLElement, host: ActionHost): void {
  if (el.querySelector('.confirm')) return
  const s = host.strings()
  const yes = h('button', { type: 'button', class: 'start danger' }, s.delete)
  const no = h('button', { type: 'button', class: 'later' }, s.cancel)
  const box = h(
    'div',
    { role: 'group', 'aria-label': s.confirmDelete, part: 'confirm-delete', class: 'confirm' },
    s.confirmDelete,
    yes,
    no,
  )
  const close = (): void => {
    box.remove()
    el.querySelector<HTMLElement>('[data-a=delete]')?.focus()
  }
  no.addEventListener('click', close)
  yes.addEventListener('click', () => {
    box.remove()
    host.list.focus()
    host.remove(host.shown(el).offset)
  })
  onEscape(box, close)
  el.append(box)
  no.focus()
}

/** Escape inside `el` runs `close` and goes no further (it would close the whole panel). */
function onEscape(el: HTMLElement, close: () => void): void {
  el.addEventListener('keydown', (event) => {
    if (event.key !== 'Escape') return
    event.stopPropagation()
    close()
  })
}
