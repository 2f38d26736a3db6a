import { connect as sdkConnect } from '@confab/sdk'
import { ElementBase } from './base.js'
import { Chat, PAGE } from './chat.js'
import type { ChatClient, Connect, Message, Status } from './client.js'
import { accentText } from './contrast.js'
import { MessageLog } from './log.js'
import { applyStrings, renderView, setUnread, type View } from './render.js'
import {
  type Area,
  activeKey,
  conversationKey,
  identityArea,
  NAME_KEY,
  openKey,
  profileKey,
  read,
  sdkStorage,
  write,
} from './storage.js'
import { direction, format, locales, requestLocale, resolveStrings, type Strings } from './strings.js'
import { adoptStyles, PHONE, setAccentText, setViewport } from './styles.js'

/** The value of an attribute when it is absent or empty. */
const text =
  (fallback = '') =>
  (value: string | null): string =>
    value || fallback

/** One of `values`, else `fallback` (an absent or unknown attribute value). */
const oneOf =
  <const T extends string>(values: T[], fallback: T) =>
  (value: string | null): T =>
    value !== null && (values as string[]).includes(value) ? (value as T) : fallback

/**
 * What a change of an attribute sets off: a new connection, a new layout, new labels, or opening and closing.
 * `persist` reconnects too: the SDK client reads its storage once, when it is made.
 */
type Reaction = 'connect' | 'layout' | 'label' | 'open'

/**
 * Every attribute the element observes, with its reaction; `read` (how the property of the same name reads the
 * attribute) makes a string property reflected to the attribute. `open` is the boolean property `opened`, and
 * `title` and `lang` are HTMLElement's own properties.
 */
const ATTRIBUTES = {
  relay: { read: text(), on: 'connect' },
  room: { read: text('lobby'), on: 'connect' },
  // Conversation mode: the visitor's private thread with the site's team instead of a shared room.
  conversation: { on: 'connect' },
  greeting: { read: text(), on: 'label' },
  team: { read: text(), on: 'label' },
  'reply-time': { on: 'label' },
  name: { read: text(), on: 'connect' },
  token: { read: text(), on: 'connect' },
  persist: { read: oneOf(['session', 'none'], 'local'), on: 'connect' },
  mode: { read: oneOf(['inline'], 'launcher'), on: 'layout' },
  position: { read: oneOf(['left'], 'right'), on: 'layout' },
  theme: { read: oneOf(['light', 'dark'], 'auto'), on: 'label' },
  placeholder: { read: text(), on: 'label' },
  open: { on: 'open' },
  title: { on: 'label' },
  lang: { on: 'label' },
} satisfies Record<string, { read?: (value: string | null) => string; on: Reaction }>

type Table = typeof ATTRIBUTES
/** Attributes with a generated string property. */
type Reflected = { [K in keyof Table]: Table[K] extends { read: unknown } ? K : never }[keyof Table]

/** The string properties generated from {@link ATTRIBUTES}, typed by what their `read` returns. */
export type ConfabChatAttributes = { -readonly [K in Reflected]: ReturnType<Table[K]['read']> }

const REFLECTED = Object.keys(ATTRIBUTES).filter((name) => 'read' in ATTRIBUTES[name as keyof Table]) as Reflected[]

/** Properties a page may have set before the element was defined. */
const PROPERTIES = ['client', 'strings', 'opened', ...REFLECTED]

/** The `detail` of each event of `<confab-chat>`. */
interface Details {
  /** A message was shown for the first time. */
  'confab-message': { message: Message }
  /** The connection changed. */
  'confab-status': { status: Status }
  /** The panel opened. */
  'confab-open': undefined
  /** The panel closed. */
  'confab-close': undefined
  /** A send or a history page failed, or the relay refused the token or the room. */
  'confab-error': { error: unknown }
}

/** Events of `<confab-chat>`: each a `CustomEvent` that bubbles and is composed. */
export type ConfabChatEventMap = HTMLElementEventMap & { [K in keyof Details]: CustomEvent<Details[K]> }

/** The same check as the relay's: one `@`, no spaces, at most 254 characters. */
const EMAIL = /^[^\s@]+@[^\s@]+$/

/** What the room's place in tab storage is called in conversation mode (one conversation per relay). */
const CONVERSATION = '#conversation'

/** Within this many pixels of the top of the log, scrolling up loads the previous page. */
const PAGE_TRIGGER = 40

/**
 * `<confab-chat>`: a chat room in a Web Component. Defining this module registers
 * nothing; import `@confab/widget` (or call `ConfabChat.define()`) for that.
 *
 * @fires confab-message - a message was shown; `detail: { message }`
 * @fires confab-status - the connection changed; `detail: { status }`
 * @fires confab-open - the panel opened
 * @fires confab-close - the panel closed
 * @fires confab-error - a send or a history page failed, or the relay refused the token, the origin or the room; `detail: { error }`
 */
// biome-ignore lint/suspicious/noUnsafeDeclarationMerging: the static block defines the accessors from ATTRIBUTES; the interface below the class types them from the same table
export class ConfabChat extends ElementBase {
  /** Opens the widget's own connection; replace it to use another transport or a test double. */
  static connect: Connect = (url, options) => sdkConnect(url, options)

  /** The relay used when the `relay` attribute is empty; the script-tag build sets it to the script's origin. */
  static defaultRelay = ''

  /** Built-in locales, selected by `lang`; add your own: `ConfabChat.locales.de = { send: 'Senden', ... }`. */
  static locales = locales

  static readonly observedAttributes = Object.keys(ATTRIBUTES) as (keyof Table)[]

  /** Registers the element as `tag` unless that name is taken already (so loading twice is harmless). */
  static define(tag = 'confab-chat', registry: CustomElementRegistry = customElements): void {
    // biome-ignore lint/complexity/noThisInStatic: `this` so a subclass defines itself, not ConfabChat
    if (!registry.get(tag)) registry.define(tag, this)
  }

  private readonly view: View
  private readonly log: MessageLog
  private readonly viewport: CSSStyleSheet
  private readonly accent: CSSStyleSheet
  private chat: Chat | undefined
  private ownClient: ChatClient | undefined
  private overrides: Partial<Strings> = {}
  private unread = 0
  /** The name typed into the name form, for when Web Storage is blocked and cannot remember it. */
  private chosenName = ''
  /** Conversation mode: the client waiting for the relay to name the visitor's conversation (a first visit). */
  private waiting: ChatClient | undefined
  /** Messages written while {@link waiting}: sent as soon as the conversation is known. */
  private early: { text: string; done: [(m: Message) => void, (e: unknown) => void] }[] = []
  /** Conversation mode: operators online relay-wide (the `operators` frame); undefined until the first. */
  private operators: number | undefined
  private readonly unbindClient: (() => void)[] = []
  /** True while connectedCallback restores the tab's open state: a restored panel does not take focus. */
  private restoring = false
  /**
   * Set by connectedCallback. Not `isConnected`: while markup upgrades, attributeChangedCallback runs once per
   * attribute with isConnected already true, and reacting there would open a connection per attribute.
   */
  private connected = false
  /** The tab came to the front (or went away): what the open chat shows is read now. */
  private readonly visible = (): void => this.markRead()
  private readonly fit = (): void => {
    // A phone turned sideways may cross the full-screen width.
    this.layout()
    const vv = globalThis.visualViewport
    if (vv) setViewport(this.viewport, vv.height, vv.offsetTop)
  }

  constructor() {
    super()
    const shadow = this.attachShadow({ mode: 'open' })
    ;[this.viewport, this.accent] = adoptStyles(shadow)
    this.view = renderView(shadow)
    this.log = new MessageLog(this.view, {
      strings: () => this.strings,
      lang: () => this.lang,
      retry: (key) => this.chat?.retry(key),
      changes: () => !!this.chat?.room.react,
      edit: (offset, text) => this.chat?.change(offset, 'edit', text),
      remove: (offset) => this.chat?.change(offset, 'delete'),
      react: (offset, emoji) => this.chat?.change(offset, 'react', emoji),
    })
    this.wire()
  }

  // ------------------------------------------------------------ properties

  // The string properties (relay, room, name, token, persist, mode, position, theme, placeholder) are made
  // from ATTRIBUTES here and typed by the ConfabChat interface below the class.
  static {
    for (const prop of REFLECTED) {
      const read = ATTRIBUTES[prop].read
      Object.defineProperty(ConfabChat.prototype, prop, {
        get(this: ConfabChat) {
          return read(this.getAttribute(prop))
        },
        set(this: ConfabChat, value: string | null | undefined) {
          if (value === null || value === undefined) this.removeAttribute(prop)
          else this.setAttribute(prop, value)
        },
        configurable: true,
      })
    }
  }

  /**
   * Whether the launcher's panel is open: the `open` attribute. (Named `opened` because
   * `open()` is the method, as `<dialog>` pairs its state with `show()`/`close()`.)
   */
  get opened(): boolean {
    return this.hasAttribute('open')
  }
  set opened(value: boolean) {
    this.toggleAttribute('open', value)
  }

  /** Conversation mode: the `conversation` attribute (a private thread with the site's team instead of `room`). */
  get conversation(): boolean {
    return this.hasAttribute('conversation')
  }
  set conversation(value: boolean) {
    this.toggleAttribute('conversation', value)
  }

  /** The `reply-time` attribute ("a few hours"), shown while no operator is online. */
  get replyTime(): string {
    return this.getAttribute('reply-time') ?? ''
  }
  set replyTime(value: string) {
    this.setAttribute('reply-time', value)
  }

  /** The UI strings in use; assign a partial object to replace some (property only). */
  get strings(): Strings {
    return resolveStrings(this.lang, this.overrides)
  }
  set strings(value: Partial<Strings>) {
    this.overrides = { ...value }
    this.relabel()
  }

  /** An SDK client to use instead of opening one (property only); the widget then never closes it. */
  get client(): ChatClient | undefined {
    return this.chat?.client ?? this.ownClient
  }
  set client(value: ChatClient | undefined) {
    this.ownClient = value
    if (this.chat) this.restart()
  }

  /** Connection status, `idle` before the widget has connected. */
  get status(): Status | 'idle' {
    return this.chat?.client.status ?? 'idle'
  }

  // ------------------------------------------------------------ methods

  /** Opens the panel (launcher mode) and connects if needed. */
  open(): void {
    this.opened = true
  }

  /** Closes the panel (launcher mode); the connection stays up so unread messages are counted. */
  close(): void {
    this.opened = false
  }

  /** Sends `text` as the current user; resolves with the stored message. Connects first if needed. */
  send(text: string): Promise<Message> {
    const chat = this.start()
    if (!chat && this.waiting) return new Promise((...done) => this.early.push({ text, done }))
    if (!chat) return Promise.reject(new Error('confab-chat: no display name yet (set the name attribute)'))
    return chat.send(text)
  }

  // ------------------------------------------------------------ lifecycle

  connectedCallback(): void {
    for (const prop of PROPERTIES) this.upgrade(prop)
    // The open state this tab last had wins over the markup's: a visitor who closed the panel keeps it closed
    // on the next page of the site, and one who left it open finds it open.
    const wasOpen = this.tabRead(openKey(this.relayUrl(), this.place()))
    this.restoring = wasOpen !== null
    if (this.mode === 'launcher' && wasOpen !== null) this.toggleAttribute('open', wasOpen === '1')
    this.relabel()
    this.layout()
    this.connected = true
    document.addEventListener('visibilitychange', this.visible)
    if (this.opened) this.onOpen()
    else if (this.mode === 'inline' || this.tabRead(this.activeKey())) this.start()
    this.restoring = false
  }

  disconnectedCallback(): void {
    this.connected = false
    document.removeEventListener('visibilitychange', this.visible)
    this.stop()
    globalThis.visualViewport?.removeEventListener('resize', this.fit)
    globalThis.visualViewport?.removeEventListener('scroll', this.fit)
  }

  attributeChangedCallback(name: string, old: string | null, value: string | null): void {
    if (old === value) return
    switch (ATTRIBUTES[name as keyof Table].on) {
      case 'connect':
        if (name === 'conversation') {
          this.layout()
          this.relabel()
        }
        if (this.chat) this.restart()
        // A name or token arriving while the name form shows (or before the first open) may now be enough.
        else if (this.connected && (this.mode === 'inline' || this.opened)) this.start()
        break
      case 'open':
        this.layout()
        // Opened before it was attached: connectedCallback opens it.
        if (!this.connected) return
        if (value !== null) this.onOpen()
        else this.onClose()
        break
      case 'layout':
        this.layout()
        if (this.connected && this.mode === 'inline') this.start()
        break
      case 'label':
        this.relabel()
    }
  }

  // ------------------------------------------------------------ internals

  private wire(): void {
    const v = this.view
    v.launcher.addEventListener('click', () => {
      this.opened = !this.opened
    })
    v.closeButton.addEventListener('click', () => this.closeAndReturn())
    v.root.addEventListener('keydown', (event) => {
      if (event.key === 'Escape' && this.mode === 'launcher' && this.opened) {
        event.stopPropagation()
        this.closeAndReturn()
      } else if (event.key === 'Tab' && v.panel.hasAttribute('aria-modal')) {
        // Full-screen on a phone: the page behind is covered, so Tab wraps around inside the panel.
        const stops = [...v.panel.querySelectorAll<HTMLElement>('button,textarea,input,a[href],[tabindex]')].filter(
          (el) => !el.closest('[hidden]'),
        )
        const active = (v.root.getRootNode() as ShadowRoot).activeElement
        if (active === (event.shiftKey ? stops[0] : stops.at(-1))) {
          event.preventDefault()
          stops.at(event.shiftKey ? -1 : 0)?.focus()
        }
      }
    })
    v.composer.addEventListener('submit', (event) => {
      event.preventDefault()
      this.submit()
    })
    v.input.addEventListener('keydown', (event) => {
      if (event.key === 'Enter' && !event.shiftKey && !event.isComposing) {
        event.preventDefault()
        this.submit()
      }
    })
    v.input.addEventListener('input', () => {
      this.fits()
      this.chat?.typing()
    })
    v.nameForm.addEventListener('submit', (event) => {
      event.preventDefault()
      const name = v.nameInput.value.trim()
      if (!name) return
      this.chosenName = name
      const area = identityArea(this.persist)
      if (area) write(area, NAME_KEY, name)
      this.start()
      v.input.focus()
    })
    v.profile.addEventListener('submit', (event) => {
      event.preventDefault()
      void this.saveProfile()
    })
    v.profileDismiss.addEventListener('click', () => {
      this.tabWrite(profileKey(this.relayUrl()), 'later')
      this.updateProfile()
      v.input.focus()
    })
    v.more.addEventListener('click', () => this.chat?.loadEarlier())
    v.log.addEventListener('scroll', () => {
      if (v.log.scrollTop < PAGE_TRIGGER && !v.more.hidden) this.chat?.loadEarlier()
    })
  }

  /** Connects (once) when a name or token is known; otherwise shows the name form. */
  private start(): Chat | undefined {
    if (this.chat || this.waiting) return this.chat
    const area = identityArea(this.persist)
    // Conversation mode never blocks the first message on a name: "Visitor" until the visitor gives one.
    const fallback = this.conversation ? this.strings.visitor : ''
    const name = this.name || this.chosenName || (area && read(area, NAME_KEY)) || fallback
    const needsName = !this.ownClient && !this.token && !name
    this.view.nameForm.hidden = !needsName
    this.view.composer.hidden = needsName
    if (needsName) return undefined
    const persist = sdkStorage(this.persist)
    const client =
      this.ownClient ??
      ConfabChat.connect(this.relayUrl(), {
        ...(this.token ? { token: this.token } : { name }),
        ...(persist && { persist }),
      })
    if (this.mode === 'launcher') this.tabWrite(this.activeKey(), '1')
    if (!this.conversation) return this.begin(client, this.room)
    // The relay names the conversation; a return visit knows the name already and joins at once (offline too).
    const known = area && read(area, conversationKey(this.relayUrl()))
    const chat = known ? this.begin(client, known) : undefined
    if (!chat) this.waiting = client
    this.converse(client, !chat)
    if (!chat) this.emit('confab-status', { status: client.status })
    return chat
  }

  /**
   * Conversation mode: learns the conversation's room from the relay when it is not known yet (then starts the chat
   * and sends what was written meanwhile), and subscribes to operator presence with `conversation()` once the chat
   * has joined the room (so the SDK's join is the chat's own, with its history).
   */
  private converse(client: ChatClient, ask: boolean): void {
    let subscribed = false
    const subscribe = (): void => {
      subscribed = true
      client.conversation?.({ history: PAGE }).catch(() => {
        subscribed = false
      })
    }
    let asking = false
    const name = (): void => {
      asking = true
      client.request?.({ type: 'conversation' }).then(
        (answer) => {
          asking = false
          const room = (answer as { room?: string }).room
          if (!room || this.waiting !== client) return
          const area = identityArea(this.persist)
          if (area) write(area, conversationKey(this.relayUrl()), room)
          this.waiting = undefined
          const chat = this.begin(client, room)
          for (const { text, done } of this.early.splice(0)) chat.send(text).then(...done)
          subscribe()
        },
        // Offline, or no answer in time: the next connection asks again.
        () => {
          asking = false
        },
      )
    }
    this.unbindClient.push(
      client.on('operators', (n: number) => {
        this.operators = n
        this.chat?.refresh()
        this.updateProfile()
      }),
      // Asked once the session is open: a request made before `welcome` would wait for its timeout.
      client.on('status', (status, previous) => {
        if (status !== 'open' || previous === 'open') return
        if (this.waiting === client && !asking) name()
        else if (this.chat?.client === client && !subscribed) subscribe()
      }),
    )
    if (client.status !== 'open') return
    if (ask) name()
    else subscribe()
  }

  private begin(client: ChatClient, room: string): Chat {
    this.chat = new Chat(client, !this.ownClient, room, this.view, this.log, {
      strings: () => this.strings,
      status: (status) => this.emit('confab-status', { status }),
      error: (error) => this.emit('confab-error', { error }),
      message: (message, own, live) => {
        this.emit('confab-message', { message })
        if (live && !own && this.mode === 'launcher' && !this.opened) this.unread++
        if (live && !own) this.markRead()
        if (own && live) this.updateProfile()
      },
      presence: this.conversation ? () => this.teamPresence() : undefined,
      // What arrived while the visitor was away is read once it is on screen.
      joined: () => this.markRead(),
      receipts: this.conversation,
      read: () => this.badge(),
    })
    this.emit('confab-status', { status: client.status })
    this.markRead()
    return this.chat
  }

  /** The header line of conversation mode: whether anyone from the team is online, else when they usually reply. */
  private teamPresence(): string {
    const s = this.strings
    const on = !!this.operators
    this.view.presence.classList.toggle('on', on)
    if (on) return s.operatorOnline
    return this.replyTime ? format(s.replyTime, { time: this.replyTime }) : s.operatorAway
  }

  /** The user has read what is shown (the panel is open, or inline, and the tab in front); the badge follows. */
  private markRead(): void {
    const visible = (this.mode === 'inline' || this.opened) && globalThis.document?.visibilityState !== 'hidden'
    if (visible) this.chat?.room.markRead?.()
    this.badge()
  }

  /**
   * The launcher's unread count: the relay's (the SDK's `room.unread`, which survives a reload and follows the
   * user's other tabs), else the messages counted since the panel was closed.
   */
  private badge(): void {
    setUnread(this.view, this.strings, this.opened ? 0 : (this.chat?.room.unread ?? this.unread), this.opened)
  }

  /**
   * The inline profile form of conversation mode: offered once the visitor has written, until saved or put off
   * for this tab; the email field only while no operator is online ("We'll reply by email").
   */
  private updateProfile(): void {
    const v = this.view
    const s = this.strings
    const wrote = this.log.size > 0 && !!v.log.querySelector('.msg.own')
    const asked =
      this.persist !== 'none' && read(identityArea(this.persist) ?? 'sessionStorage', profileKey(this.relayUrl()))
    const later = this.tabRead(profileKey(this.relayUrl())) === 'later'
    const show = this.conversation && wrote && !asked && !later && this.chat !== undefined
    const away = this.operators === 0
    if (v.profile.hidden === !show && v.profileEmail.hidden === !away) return
    v.profile.hidden = !show
    v.profileEmail.hidden = !away
    v.profilePrompt.textContent = away ? s.emailOffline : s.profilePrompt
  }

  private async saveProfile(): Promise<void> {
    const v = this.view
    const s = this.strings
    const name = v.profileName.value.trim()
    const email = v.profileEmail.hidden ? '' : v.profileEmail.value.trim()
    const bad = email !== '' && (email.length > 254 || !EMAIL.test(email))
    v.profileError.textContent = bad ? s.emailInvalid : ''
    if (bad) {
      v.profileEmail.setAttribute('aria-invalid', 'true')
      v.profileEmail.focus()
      return
    }
    v.profileEmail.removeAttribute('aria-invalid')
    const client = this.chat?.client
    if (!client?.request || (!name && !email)) return
    try {
      await client.request({ type: 'profile', ...(name && { name }), ...(email && { email }) })
      const area = identityArea(this.persist)
      if (area) {
        write(area, profileKey(this.relayUrl()), '1')
        if (name) write(area, NAME_KEY, name)
      }
      v.profile.hidden = true
      v.note.textContent = email ? format(s.saved, { email }) : ''
      v.note.classList.add('ok')
      v.input.focus()
    } catch (error) {
      v.profileError.textContent = s.refusedBad
      this.emit('confab-error', { error })
    }
  }

  private stop(): void {
    for (const off of this.unbindClient.splice(0)) off()
    this.chat?.stop()
    this.chat = undefined
    if (this.waiting && !this.ownClient) this.waiting.close()
    this.waiting = undefined
    for (const { done } of this.early.splice(0)) done[1](new Error('confab-chat: stopped'))
    this.operators = undefined
  }

  private restart(): void {
    this.stop()
    this.log.clearStored()
    if (this.connected) this.start()
  }

  private submit(): void {
    const text = this.view.input.value.trim()
    if (!text || !this.fits()) return
    this.view.input.value = ''
    // A failed send stays on screen with a retry button and reaches the page as confab-error.
    this.send(text).catch(() => undefined)
  }

  /** Checks the draft against the relay's `maxText`; when it is over, says by how much and marks Send unusable. */
  private fits(): boolean {
    const max = this.chat?.maxText
    const n = this.view.input.value.trim().length
    const over = max !== undefined && n > max
    const s = this.strings
    const note = over ? format(s.tooLong, { n: n.toLocaleString(), max: max.toLocaleString() }) : ''
    if (note !== this.view.note.textContent) {
      // The note takes its line from the bottom of the log: a reader at the newest message stays there.
      const follow = this.log.atBottom()
      this.view.note.textContent = note
      this.view.note.classList.remove('ok')
      if (follow) this.log.scrollToEnd()
    }
    // aria-disabled, not disabled: the button keeps focus, and pressing it re-announces the note.
    for (const [el, attr] of [
      [this.view.input, 'aria-invalid'],
      [this.view.sendButton, 'aria-disabled'],
    ] as const) {
      if (over) el.setAttribute(attr, 'true')
      else el.removeAttribute(attr)
    }
    return !over
  }

  private onOpen(): void {
    this.emit('confab-open')
    this.unread = 0
    this.badge()
    this.start()
    this.log.scrollToEnd()
    // On phones the open panel is full-screen; follow the visual viewport so the keyboard never covers the input.
    globalThis.visualViewport?.addEventListener('resize', this.fit)
    globalThis.visualViewport?.addEventListener('scroll', this.fit)
    this.fit()
    this.contrast()
    if (this.mode === 'launcher') this.tabWrite(openKey(this.relayUrl(), this.place()), '1')
    this.markRead()
    if (!this.restoring) (this.view.nameForm.hidden ? this.view.input : this.view.nameInput).focus()
  }

  private onClose(): void {
    this.emit('confab-close')
    if (this.mode === 'launcher') this.tabWrite(openKey(this.relayUrl(), this.place()), '0')
    globalThis.visualViewport?.removeEventListener('resize', this.fit)
    globalThis.visualViewport?.removeEventListener('scroll', this.fit)
    setViewport(this.viewport, null)
  }

  private closeAndReturn(): void {
    this.close()
    this.view.launcher.focus()
  }

  /** Mode, position and open state as classes and ARIA on the shadow DOM. */
  private layout(): void {
    const v = this.view
    const launcher = this.mode === 'launcher'
    // `still`: a panel restored open on the next page of the site appears in place, without flying in again.
    v.root.className = `root ${launcher ? 'launcher-mode' : 'inline'}${this.position === 'left' ? ' left' : ''}${this.conversation ? ' conv' : ''}${this.opened ? ' open' : ''}${this.restoring ? ' still' : ''}`
    v.panel.hidden = launcher && !this.opened
    v.launcher.setAttribute('aria-expanded', String(this.opened))
    this.badge()
    if (launcher) v.panel.setAttribute('role', 'dialog')
    else v.panel.removeAttribute('role')
    if (launcher && this.opened && globalThis.matchMedia?.(PHONE).matches) v.panel.setAttribute('aria-modal', 'true')
    else v.panel.removeAttribute('aria-modal')
  }

  private relabel(): void {
    const s = this.strings
    const conv = this.conversation
    const title = this.getAttribute('title') || (conv ? this.team || s.team : s.title)
    applyStrings(this.view, s, title, this.placeholder || s.placeholder)
    // Conversation mode greets instead of "No messages yet".
    if (conv) this.view.empty.textContent = this.greeting || s.greeting
    this.chat?.refresh()
    this.badge()
    this.contrast()
    this.view.root.lang = this.lang
    // Locales (issue 16): right-to-left layout for Arabic and Hebrew, and a bundled locale fetched on first use.
    this.view.root.dir = direction(this.lang)
    requestLocale(this.lang, () => this.relabel())
    this.log.relabel()
    this.chat?.refresh()
  }

  private relayUrl(): string {
    return this.relay || ConfabChat.defaultRelay || location.origin
  }

  /** Picks black or white text for the accent the page resolved, unless `--confab-accent-fg` says which. */
  private contrast(): void {
    // The launcher's background is the resolved accent, whatever set it (a page rule, an ancestor, the default).
    const accent = globalThis.getComputedStyle?.(this.view.launcher).backgroundColor
    setAccentText(this.accent, accent ? accentText(accent) : null)
  }

  /** sessionStorage, unless `persist="none"` forbids remembering anything. */
  private tabRead(key: string): string | null {
    return this.persist === 'none' ? null : read('sessionStorage' satisfies Area, key)
  }

  private tabWrite(key: string, value: string): void {
    if (this.persist !== 'none') write('sessionStorage', key, value)
  }

  private activeKey(): string {
    return activeKey(this.relayUrl(), this.place())
  }

  /** The room, or the visitor's conversation, in the keys of tab storage. */
  private place(): string {
    return this.conversation ? CONVERSATION : this.room
  }

  private emit<K extends keyof Details>(type: K, detail?: Details[K]): void {
    this.dispatchEvent(new CustomEvent(type, { detail, bubbles: true, composed: true }))
  }

  /** A property set before the element was defined shadows the accessor: move it through the setter. */
  private upgrade(prop: string): void {
    if (!Object.hasOwn(this, prop)) return
    const value = (this as Record<string, unknown>)[prop]
    delete (this as Record<string, unknown>)[prop]
    ;(this as Record<string, unknown>)[prop] = value
  }
}

/** The generated string properties, and `addEventListener` typed by {@link ConfabChatEventMap}. */
export interface ConfabChat extends ConfabChatAttributes {
  addEventListener<K extends keyof ConfabChatEventMap>(
    type: K,
    listener: (this: ConfabChat, event: ConfabChatEventMap[K]) => unknown,
    options?: boolean | AddEventListenerOptions,
  ): void
  addEventListener(
    type: string,
    listener: EventListenerOrEventListenerObject,
    options?: boolean | AddEventListenerOptions,
  ): void
  removeEventListener<K extends keyof ConfabChatEventMap>(
    type: K,
    listener: (this: ConfabChat, event: ConfabChatEventMap[K]) => unknown,
    options?: boolean | EventListenerOptions,
  ): void
  removeEventListener(
    type: string,
    listener: EventListenerOrEventListenerObject,
    options?: boolean | EventListenerOptions,
  ): void
}
