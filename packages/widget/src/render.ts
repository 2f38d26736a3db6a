import { h, ICONS, icon } from './dom.js'
import { format, type Strings } from './strings.js'

/** Handles to the parts of the widget's shadow DOM that change after the first render. */
export interface View {
  root: HTMLDivElement
  launcher: HTMLButtonElement
  badge: HTMLSpanElement
  panel: HTMLElement
  title: HTMLHeadingElement
  presence: HTMLSpanElement
  closeButton: HTMLButtonElement
  banner: HTMLDivElement
  log: HTMLDivElement
  more: HTMLButtonElement
  empty: HTMLParagraphElement
  jump: HTMLButtonElement
  typing: HTMLDivElement
  nameForm: HTMLFormElement
  nameInput: HTMLInputElement
  /** Conversation mode: the optional name and email, asked inline after the first message. */
  profile: HTMLFormElement
  profilePrompt: HTMLParagraphElement
  profileName: HTMLInputElement
  profileEmail: HTMLInputElement
  profileError: HTMLDivElement
  profileDismiss: HTMLButtonElement
  composer: HTMLFormElement
  input: HTMLTextAreaElement
  note: HTMLDivElement
  sendButton: HTMLButtonElement
}

/** Builds the widget's DOM (once per element) into `shadow` and returns its handles. */
export function renderView(shadow: ShadowRoot): View {
  const launcher = h('button', { type: 'button', part: 'launcher', class: 'launcher', 'aria-controls': 'panel' })
  const badge = h('span', { part: 'badge', class: 'badge', 'aria-hidden': 'true', hidden: true })
  // Both icons are in the DOM; CSS shows the close one while the panel is open.
  launcher.append(icon(ICONS.chat, 'i-chat'), icon(ICONS.close, 'i-close'), badge)

  const title = h('h2', { part: 'title', id: 'title' })
  const presence = h('span', { part: 'presence', class: 'presence' })
  const closeButton = h('button', { type: 'button', part: 'close-button', class: 'icon close' }, icon(ICONS.close))
  // Not <header>: inside a <section> it still maps to a page-level banner landmark in some engines, and axe
  // then finds two banners on the host page (landmark-no-duplicate-banner).
  const header = h('div', { part: 'header', class: 'header' }, title, presence, closeButton)

  // Never hidden, only empty: a status region must already be in the accessibility tree for its changes to be announced.
  const banner = h('div', { part: 'banner', class: 'banner', role: 'status' })
  const more = h('button', { type: 'button', part: 'load-earlier', class: 'more', hidden: true })
  const empty = h('p', { part: 'empty', class: 'empty', hidden: true })
  // The log scrolls, so it takes focus for keyboard scrolling (WCAG 2.1.1). Busy until joined, so the
  // recent history delivered with the join is not read out message by message.
  const log = h(
    'div',
    { part: 'log', class: 'log', role: 'log', 'aria-live': 'polite', 'aria-busy': 'true', tabindex: '0' },
    more,
    empty,
  )
  const jump = h('button', { type: 'button', part: 'new-messages', class: 'jump', hidden: true })
  const typing = h('div', { part: 'typing', class: 'typing', 'aria-live': 'polite' })

  const nameInput = h('input', {
    part: 'name-input',
    id: 'name',
    autocomplete: 'nickname',
    dir: 'auto',
    maxlength: '40',
    required: true,
  })
  const nameLabel = h('label', { for: 'name', id: 'name-label' })
  const nameForm = h(
    'form',
    { part: 'name-form', class: 'name-form', hidden: true },
    nameLabel,
    nameInput,
    h('button', { part: 'name-button', class: 'start' }),
  )

  const profilePrompt = h('p', { class: 'prompt', id: 'profile-prompt' })
  const profileName = h('input', { part: 'profile-name', id: 'pname', autocomplete: 'name', maxlength: '40' })
  // type=email for the phone keyboard; novalidate on the form, so the widget's own message says what is wrong.
  const profileEmail = h('input', {
    part: 'profile-email',
    id: 'pemail',
    type: 'email',
    autocomplete: 'email',
    maxlength: '254',
    'aria-describedby': 'profile-error',
  })
  const profileError = h('div', { class: 'field-error', id: 'profile-error', 'aria-live': 'polite' })
  const profileDismiss = h('button', { type: 'button', class: 'later' })
  const profile = h(
    'form',
    { part: 'profile', class: 'profile', hidden: true, novalidate: true, 'aria-labelledby': 'profile-prompt' },
    profilePrompt,
    h('label', { for: 'pname', class: 'vh' }),
    profileName,
    h('label', { for: 'pemail', class: 'vh' }),
    profileEmail,
    profileError,
    h('div', { class: 'row' }, h('button', { part: 'profile-button', class: 'start' }), profileDismiss),
  )

  // No maxlength: it cuts a long paste silently; the note below says how much is too long instead.
  const input = h('textarea', {
    part: 'input',
    id: 'input',
    rows: '1',
    dir: 'auto',
    enterkeyhint: 'send',
    'aria-describedby': 'note',
  })
  // Never hidden, only empty, like the banner: its changes are announced.
  const note = h('div', { part: 'composer-note', class: 'note', id: 'note', 'aria-live': 'polite' })
  const sendButton = h('button', { part: 'send-button', class: 'send' }, icon(ICONS.send))
  const composer = h(
    'form',
    { part: 'composer', class: 'composer' },
    h('label', { for: 'input', class: 'vh', id: 'input-label' }),
    input,
    sendButton,
  )

  const panel = h(
    'section',
    { part: 'panel', class: 'panel', id: 'panel', 'aria-labelledby': 'title' },
    header,
    banner,
    log,
    jump,
    typing,
    nameForm,
    profile,
    note,
    composer,
  )
  const root = h('div', { part: 'root', class: 'root' }, launcher, panel)
  shadow.append(root)
  return {
    root,
    launcher,
    badge,
    panel,
    title,
    presence,
    closeButton,
    banner,
    log,
    more,
    empty,
    jump,
    typing,
    nameForm,
    nameInput,
    profile,
    profilePrompt,
    profileName,
    profileEmail,
    profileError,
    profileDismiss,
    composer,
    input,
    note,
    sendButton,
  }
}

/** Writes every fixed label in the UI from `s`; called on first render and when strings or lang change. */
export function applyStrings(v: View, s: Strings, title: string, placeholder: string): void {
  v.title.textContent = title
  v.closeButton.setAttribute('aria-label', s.close)
  v.log.setAttribute('aria-label', s.log)
  v.more.textContent = s.loadEarlier
  v.empty.textContent = s.empty
  v.jump.textContent = `${s.newMessages} ↓`
  v.input.placeholder = placeholder
  v.nameForm.querySelector('label')!.textContent = s.namePrompt
  v.nameInput.placeholder = s.name
  v.nameForm.querySelector('button')!.textContent = s.start
  v.composer.querySelector('label')!.textContent = s.message
  v.sendButton.setAttribute('aria-label', s.send)
  const [nameLabel, emailLabel] = v.profile.querySelectorAll('label')
  nameLabel!.textContent = v.profileName.placeholder = `${s.name}`
  emailLabel!.textContent = v.profileEmail.placeholder = s.email
  v.profile.querySelector('.start')!.textContent = s.save
  v.profileDismiss.textContent = s.dismiss
}

/** Shows the unread count on the launcher badge, and names the launcher for what it does now: open, or close. */
export function setUnread(v: View, s: Strings, unread: number, opened: boolean): void {
  v.badge.hidden = unread === 0
  v.badge.textContent = unread > 99 ? '99+' : String(unread)
  v.launcher.setAttribute('aria-label', opened ? s.close : unread ? format(s.openUnread, { n: unread }) : s.open)
}

/** "Kira is typing…" for everyone typing except the local user. */
export function typingText(s: Strings, names: string[]): string {
  if (names.length === 0) return ''
  if (names.length === 1) return format(s.typing1, { a: names[0]! })
  if (names.length === 2) return format(s.typing2, { a: names[0]!, b: names[1]! })
  return s.typingN
}
