import { type Message, connect as sdkConnect } from '@confab/sdk'
import { ElementBase } from '../base.js'
import { h, ICONS, icon } from '../dom.js'
import { linkify } from '../linkify.js'
import { read, write } from '../storage.js'
import { format, resolveStrings, type Strings } from '../strings.js'
import type {
  Conversation,
  ConversationFrame,
  ConversationsFrame,
  InboxClient,
  InboxConnectOptions,
  InboxRoom,
} from './client.js'
import { adoptInboxStyles } from './styles.js'

/** The list filters: each a query of the `conversations` frame. */
type Filter = 'open' | 'closed' | 'mine' | 'unassigned'
const FILTERS: Filter[] = ['open', 'closed', 'mine', 'unassigned']

/** sessionStorage keys: the key dies with the tab, as the sign-in link is the credential. */
const KEY = 'confab:inbox:key'
/** localStorage: the display name is asked once per browser. */
const NAME = 'confab:inbox:name'

/** Messages loaded when a conversation opens. */
const PAGE = 50

/** Below this width the list and the conversation are two screens. */
const NARROW = '(max-width:719.98px)'

/** "now", "5 min", "3 h", "2 d": the age of the last activity, short enough for a list row. */
function age(ms: number, s: Strings, lang: string): string {
  const minutes = Math.floor((Date.now() - ms) / 60_000)
  if (minutes < 1) return s.now
  const unit = (n: number, u: string): string =>
    new Intl.NumberFormat(lang || undefined, { style: 'unit', unit: u, unitDisplay: 'narrow' }).format(n)
  if (minutes < 60) return unit(minutes, 'minute')
  if (minutes < 48 * 60) return unit(Math.floor(minutes / 60), 'hour')
  return unit(Math.floor(minutes / 1440), 'day')
}

/**
 * `<confab-inbox>`: the operator console. Signs in with the operator key of the `#key=` link the relay prints (or a
 * `token` attribute holding an operator JWT), lists the conversation index with live updates, and opens one
 * conversation at a time to read and answer it.
 */
export class ConfabInbox extends ElementBase {
  /** Opens the inbox's connection; replace it in tests. */
  static connect = (url: string, options: InboxConnectOptions): InboxClient =>
    sdkConnect(url, options as Parameters<typeof sdkConnect>[1]) as unknown as InboxClient

  static define(tag = 'confab-inbox', registry: CustomElementRegistry = customElements): void {
    // biome-ignore lint/complexity/noThisInStatic: `this` so a subclass defines itself
    if (!registry.get(tag)) registry.define(tag, this)
  }

  private readonly shadow: ShadowRoot
  private client: InboxClient | undefined
  private readonly items = new Map<string, Conversation>()
  private readonly online = new Map<string, boolean>()
  private readonly watched = new Map<string, InboxRoom>()
  private filter: Filter = 'open'
  private cursor: string | null = null
  private selected: string | undefined
  private room: InboxRoom | undefined
  private offRoom: (() => void)[] = []
  private readonly rows = new Map<string, HTMLButtonElement>()
  private ticker: ReturnType<typeof setInterval> | undefined

  // The parts that change.
  private readonly root = h('div', { class: 'root', part: 'root' })
  private readonly list = h('ul', { class: 'list', part: 'list', role: 'list' })
  private readonly listEmpty = h('p', { class: 'empty' })
  private readonly moreButton = h('button', { type: 'button', class: 'more', hidden: true })
  private readonly filterBar = h('div', { class: 'filters', role: 'group' })
  private readonly banner = h('div', { class: 'banner', role: 'status' })
  private readonly pane = h('section', { class: 'pane', part: 'conversation', 'aria-labelledby': 'who' })
  private readonly who = h('h2', { id: 'who', class: 'who', tabindex: '-1' })
  private readonly meta = h('p', { class: 'meta' })
  private readonly back = h('button', { type: 'button', class: 'icon back' }, icon('M15 18l-6-6 6-6'))
  private readonly assign = h('button', { type: 'button', class: 'act' })
  private readonly toggle = h('button', { type: 'button', class: 'act' })
  private readonly log = h('div', { class: 'log', role: 'log', 'aria-live': 'polite', tabindex: '0' })
  private readonly typingLine = h('div', { class: 'typing', 'aria-live': 'polite' })
  private readonly input = h('textarea', { id: 'reply', rows: '2', enterkeyhint: 'send' })
  private readonly send = h('button', { class: 'send' }, icon(ICONS.send))
  private readonly composer = h('form', { class: 'composer' })
  private readonly pick = h('p', { class: 'pick' })
  private readonly gate = h('div', { class: 'gate', hidden: true })
  private readonly nameForm = h('form', { class: 'gate-form', hidden: true })
  private readonly nameInput = h('input', { id: 'opname', autocomplete: 'name', maxlength: '40', required: true })
  private readonly signIn = h('p', { class: 'gate-text', hidden: true })

  constructor() {
    super()
    this.shadow = this.attachShadow({ mode: 'open' })
    adoptInboxStyles(this.shadow)
    this.build()
  }

  get strings(): Strings {
    return resolveStrings(this.lang)
  }

  /** The relay; the page's own origin when the attribute is empty. */
  get relay(): string {
    return this.getAttribute('relay') || location.origin
  }

  connectedCallback(): void {
    this.label()
    this.start()
    // Ages ("5 min") move on without any frame.
    this.ticker = setInterval(() => this.renderList(), 30_000)
  }

  disconnectedCallback(): void {
    clearInterval(this.ticker)
    this.stop()
  }

  // ------------------------------------------------------------ sign-in

  /** The key from `#key=` (moved into sessionStorage and out of the address bar), else the stored one. */
  private key(): string {
    const match = /[#&]key=([^&]+)/.exec(location.hash)
    if (match) {
      write('sessionStorage', KEY, decodeURIComponent(match[1]!))
      // Out of the address bar, history and any screenshot.
      history.replaceState(null, '', location.pathname + location.search)
    }
    return read('sessionStorage', KEY) ?? ''
  }

  private start(): void {
    const token = this.getAttribute('token') ?? ''
    const key = token ? '' : this.key()
    const name = read('localStorage', NAME) ?? ''
    this.signIn.hidden = !!(token || key)
    this.nameForm.hidden = !(token || key) || !!(token || name)
    this.gate.hidden = this.signIn.hidden && this.nameForm.hidden
    this.root.classList.toggle('gated', !this.gate.hidden)
    if (!this.gate.hidden) {
      if (!this.nameForm.hidden) this.nameInput.focus()
      return
    }
    const client = ConfabInbox.connect(
      this.relay,
      token ? { token } : { key, name, persist: globalThis.sessionStorage },
    )
    this.client = client
    client.on('status', (status) => {
      this.banner.textContent =
        status === 'open' ? '' : status === 'closed' ? this.strings.closed : this.strings.reconnecting
      // Every (re)connect: the index may have moved while we were away.
      if (status === 'open') void this.load(false)
    })
    client.on('error', (error) => {
      if (error.code === 'unauthorized' || error.code === 'forbidden') {
        this.banner.textContent = this.strings.unauthorized
        write('sessionStorage', KEY, null)
      }
    })
    client.on('conversation', (c) => this.upsert(c))
    if (client.status === 'open') void this.load(false)
  }

  private stop(): void {
    this.closeRoom()
    for (const room of this.watched.values()) room.leave()
    this.watched.clear()
    this.client?.close()
    this.client = undefined
  }

  // ------------------------------------------------------------ the list

  private query(): Record<string, unknown> {
    const me = this.client?.user?.id
    switch (this.filter) {
      case 'closed':
        return { status: 'closed' }
      case 'mine':
        return { status: 'open', assignee: me }
      case 'unassigned':
        return { status: 'open', assignee: 'none' }
      default:
        return { status: 'open' }
    }
  }

  /** True when `c` belongs in the current filter (live updates are filtered here, the pages by the relay). */
  private fits(c: Conversation): boolean {
    const q = this.query()
    if (q.status !== c.status) return false
    if (q.assignee === 'none') return c.assignee === null
    if (q.assignee) return c.assignee?.id === q.assignee
    return true
  }

  private async load(more: boolean): Promise<void> {
    const client = this.client
    if (client?.status !== 'open') return
    try {
      const page = await client.request<ConversationsFrame>({
        type: 'conversations',
        ...this.query(),
        ...(more && this.cursor ? { cursor: this.cursor } : {}),
      })
      if (!more) this.items.clear()
      for (const c of page.items) this.items.set(c.id, c)
      this.cursor = page.cursor
      this.renderList()
      if (this.selected) this.renderHead()
    } catch (error) {
      this.banner.textContent = String((error as Error).message ?? error)
    }
  }

  private upsert(c: Conversation): void {
    this.items.set(c.id, c)
    this.renderList()
    if (c.id === this.selected) this.renderHead()
  }

  private renderList(): void {
    const s = this.strings
    const shown = [...this.items.values()].filter((c) => this.fits(c))
    shown.sort((a, b) => b.lastActivityAt - a.lastActivityAt)
    const keep = new Set(shown.map((c) => c.id))
    for (const [id, row] of this.rows) {
      if (!keep.has(id)) {
        row.parentElement?.remove()
        this.rows.delete(id)
      }
    }
    for (const c of shown) {
      let row = this.rows.get(c.id)
      if (!row) {
        row = h('button', { type: 'button', class: 'row', part: 'row', 'data-id': c.id })
        row.addEventListener('click', () => this.open(c.id, true))
        this.rows.set(c.id, row)
      }
      this.fillRow(row, c, s)
      // Appending an element already in the list moves it: the list follows the order without rebuilding.
      this.list.append(row.parentElement ?? h('li', {}, row))
    }
    this.watch(shown)
    this.listEmpty.hidden = shown.length > 0
    this.moreButton.hidden = this.cursor === null
  }

  private fillRow(row: HTMLButtonElement, c: Conversation, s: Strings): void {
    const online = this.online.get(c.id) === true
    const unread = c.unread.operators
    const when = age(c.lastActivityAt, s, this.lang)
    row.toggleAttribute('aria-current', c.id === this.selected)
    if (c.id === this.selected) row.setAttribute('aria-current', 'true')
    row.classList.toggle('unread', unread > 0)
    const dot = h('span', { class: `dot${online ? ' on' : ''}`, 'aria-hidden': 'true' })
    const badge = h('span', { class: 'count', hidden: unread === 0, 'aria-hidden': 'true' }, String(unread))
    const name = c.visitor.name || s.visitor
    // The accessible name is the row's own text (no aria-label, which would differ from what is on screen), with
    // the online state and unread count written out for screen readers beside their visual dot and badge.
    const hidden = [online ? s.visitorOnline : '', unread ? format(s.unreadN, { n: unread }) : ''].filter(Boolean)
    row.replaceChildren(
      h(
        'span',
        { class: 'line' },
        dot,
        h('span', { class: 'name' }, name),
        h('span', { class: 'vh' }, hidden.length ? `, ${hidden.join(', ')},` : ','),
        h('span', { class: 'age' }, when),
      ),
      h('span', { class: 'line' }, h('span', { class: 'preview' }, c.preview), badge),
    )
  }

  /**
   * Joins the listed conversations without history, for their presence: the online dot. Rooms that left the list
   * are left (unless open in the pane).
   */
  private watch(shown: Conversation[]): void {
    const client = this.client
    if (!client) return
    const keep = new Set(shown.map((c) => c.room))
    for (const [name, room] of this.watched) {
      if (!keep.has(name) && name !== this.current()?.room) {
        room.leave()
        this.watched.delete(name)
      }
    }
    for (const c of shown) {
      if (this.watched.has(c.room)) continue
      const room = client.join(c.room, { history: 0 }) as InboxRoom
      this.watched.set(c.room, room)
      room.on('presence', (members) => {
        const on = members.some((m) => m.id === c.visitor.id)
        if (this.online.get(c.id) === on) return
        this.online.set(c.id, on)
        const row = this.rows.get(c.id)
        const entry = this.items.get(c.id)
        if (row && entry) this.fillRow(row, entry, this.strings)
        if (c.id === this.selected) this.renderHead()
      })
    }
  }

  // ------------------------------------------------------------ one conversation

  private current(): Conversation | undefined {
    return this.selected ? this.items.get(this.selected) : undefined
  }

  private open(id: string, focus: boolean): void {
    const c = this.items.get(id)
    const client = this.client
    if (!c || !client) return
    if (this.selected !== id) {
      this.closeRoom()
      this.selected = id
      this.log.replaceChildren()
      this.typingLine.textContent = ''
      const room = (this.watched.get(c.room) ?? client.join(c.room, { history: 0 })) as InboxRoom
      this.watched.set(c.room, room)
      this.room = room
      this.offRoom.push(
        room.on('message', (m) => {
          this.addMessage(m)
          this.markRead()
        }),
        // An edit, a delete or a reaction: the message's new state.
        room.on('update', (m) => {
          const el = this.log.querySelector<HTMLElement>(`[data-offset="${m.offset}"]`)
          if (el) this.fill(el, m)
        }),
        room.on('typing', (members) => {
          const names = members.filter((m) => m.id !== client.user?.id).map((m) => m.name)
          this.typingLine.textContent = names.length ? format(this.strings.typing1, { a: names.join(', ') }) : ''
        }),
      )
      void room.history({ limit: PAGE }).then(
        (page) => {
          if (this.room !== room) return
          for (const m of page) this.addMessage(m)
          this.markRead()
        },
        () => undefined,
      )
    }
    this.root.classList.add('reading')
    this.pane.hidden = false
    this.pick.hidden = true
    this.renderHead()
    this.renderList()
    if (focus) (globalThis.matchMedia?.(NARROW).matches ? this.who : this.input).focus()
  }

  private closeRoom(): void {
    for (const off of this.offRoom.splice(0)) off()
    this.room = undefined
  }

  /** Back to the list (the phone's first screen), focus on the conversation's row. */
  private showList(): void {
    this.root.classList.remove('reading')
    const id = this.selected
    if (id) this.rows.get(id)?.focus()
  }

  private addMessage(m: Message): void {
    if (this.log.querySelector(`[data-offset="${m.offset}"]`)) return
    const me = m.from.id === this.client?.user?.id
    const operator = (m.from as { role?: string }).role === 'operator'
    const time = new Date(m.ts).toLocaleTimeString(this.lang || undefined, { hour: '2-digit', minute: '2-digit' })
    const el = h(
      'div',
      { class: `msg${me ? ' own' : ''}${operator ? ' op' : ''}`, 'data-offset': String(m.offset) },
      h('div', { class: 'from' }, me ? this.strings.you : this.author(m), h('span', { class: 'time' }, ` · ${time}`)),
      h('div', { class: 'bubble' }),
    )
    this.fill(el, m)
    // History pages arrive in order but may interleave with live messages: keep the log in offset order.
    const after = [...this.log.children].find((x) => Number((x as HTMLElement).dataset.offset) > m.offset)
    const follow = this.log.scrollHeight - this.log.scrollTop - this.log.clientHeight < 48
    this.log.insertBefore(el, after ?? null)
    if (follow || me) this.log.scrollTop = this.log.scrollHeight
  }

  /**
   * A message's state: its text or "Message deleted", "edited", the reaction counts, and Delete (an operator may
   * delete any message, after confirming).
   */
  private fill(el: HTMLElement, m: Message): void {
    const s = this.strings
    const bubble = el.querySelector('.bubble')!
    bubble.classList.toggle('deleted', !!m.deleted)
    bubble.replaceChildren(m.deleted ? s.deleted : linkify(m.text))
    const had = el.querySelector('.extra')
    const refocus = had?.contains(this.shadow.activeElement)
    had?.remove()
    const extra = h('div', { class: 'extra' })
    if (m.editedAt && !m.deleted) extra.append(h('span', { class: 'edited' }, s.edited))
    for (const [emoji, r] of Object.entries(m.reactions ?? {})) {
      extra.append(h('span', { class: 'chip' }, `${emoji} ${r.count}`))
    }
    const room = this.room
    if (!m.deleted && room?.delete) {
      // Every message has a Delete: each is described by its own message's text, so they differ beyond the name.
      bubble.id = `text-${m.offset}`
      const about = { 'aria-describedby': bubble.id }
      const del = h('button', { type: 'button', class: 'link', ...about }, s.delete)
      del.addEventListener('click', () => {
        const yes = h('button', { type: 'button', class: 'danger', ...about }, s.delete)
        const no = h('button', { type: 'button', class: 'link' }, s.cancel)
        const ask = h(
          'span',
          { role: 'group', 'aria-label': s.confirmDelete, class: 'confirm', ...about },
          s.confirmDelete,
          yes,
          no,
        )
        no.addEventListener('click', () => {
          ask.replaceWith(del)
          del.focus()
        })
        ask.addEventListener('keydown', (event) => {
          if (event.key === 'Escape') {
            event.stopPropagation()
            no.click()
          }
        })
        yes.addEventListener('click', () => {
          this.log.focus()
          room.delete!(m.offset).then(
            (after) => this.fill(el, after),
            () => {
              this.banner.textContent = s.changeFailed
              this.fill(el, m)
            },
          )
        })
        del.replaceWith(ask)
        no.focus()
      })
      extra.append(del)
    }
    if (extra.firstChild) el.append(extra)
    if (refocus) (extra.querySelector('button') ?? this.log).focus()
  }

  /** The visitor's messages carry the name given later in `profile` (the entry's), not the one they connected with. */
  private author(m: Message): string {
    const c = this.current()
    return c && m.from.id === c.visitor.id ? c.visitor.name || m.from.name : m.from.name
  }

  /** Tells the relay the operators have read the open conversation, when the page is in front. */
  private markRead(): void {
    const c = this.current()
    if (!c || !this.room || document.visibilityState === 'hidden') return
    if (c.unread.operators > 0) this.room.markRead?.()
  }

  private renderHead(): void {
    const c = this.current()
    if (!c) return
    const s = this.strings
    const me = this.client?.user
    this.who.textContent = c.visitor.name || s.visitor
    const online = this.online.get(c.id) === true
    this.meta.replaceChildren(
      ...[
        online ? s.visitorOnline : '',
        c.visitor.email ?? '',
        c.status === 'closed' ? s.statusClosed : '',
        c.assignee ? format(s.assignedTo, { name: c.assignee.id === me?.id ? s.you : c.assignee.name }) : s.unassigned,
      ]
        .filter(Boolean)
        .flatMap((t, i) => (i ? [' · ', t] : [t]))
        .map((t) => (t === c.visitor.email ? h('a', { href: `mailto:${t}` }, t) : t)),
    )
    this.assign.textContent = s.assignMe
    this.assign.hidden = !me || c.assignee?.id === me.id
    this.toggle.textContent = c.status === 'open' ? s.closeConversation : s.reopen
  }

  private async update(patch: Record<string, unknown>): Promise<void> {
    const c = this.current()
    if (!c || !this.client) return
    try {
      const answer = await this.client.request<ConversationFrame>({ type: 'update-conversation', id: c.id, ...patch })
      if (answer.conversation) this.upsert(answer.conversation)
    } catch (error) {
      this.banner.textContent = String((error as Error).message ?? error)
    }
  }

  private reply(): void {
    const text = this.input.value.trim()
    if (!text || !this.room) return
    this.input.value = ''
    const c = this.current()
    const me = this.client?.user
    // Answering a conversation nobody owns takes it: the team sees who is on it.
    if (c && me && !c.assignee) void this.update({ assignee: me.id })
    this.room.send(text).catch((error: Error) => {
      this.banner.textContent = `${this.strings.failed}: ${error.message}`
      this.input.value ||= text
    })
  }

  // ------------------------------------------------------------ DOM

  private build(): void {
    const head = h('div', { class: 'head' }, h('h1', { class: 'title' }), this.filterBar)
    for (const f of FILTERS) {
      const b = h('button', {
        type: 'button',
        class: 'filter',
        'data-filter': f,
        'aria-pressed': String(f === this.filter),
      })
      b.addEventListener('click', () => {
        this.filter = f
        for (const x of this.filterBar.children) x.setAttribute('aria-pressed', String(x === b))
        this.cursor = null
        this.items.clear()
        this.renderList()
        void this.load(false)
      })
      this.filterBar.append(b)
    }
    const nav = h(
      'nav',
      { class: 'side', part: 'side', 'aria-labelledby': 'list-title' },
      head,
      h('h2', { id: 'list-title', class: 'vh' }),
      this.list,
      this.listEmpty,
      this.moreButton,
    )
    this.moreButton.addEventListener('click', () => void this.load(true))
    // Up and Down move between rows; Home and End jump. Tab leaves the list: one stop for the whole list.
    this.list.addEventListener('keydown', (event) => {
      const rows = [...this.list.querySelectorAll<HTMLButtonElement>('.row')]
      const at = rows.indexOf(event.target as HTMLButtonElement)
      const to = { ArrowDown: at + 1, ArrowUp: at - 1, Home: 0, End: rows.length - 1 }[event.key]
      if (to === undefined || at === -1) return
      event.preventDefault()
      rows[Math.max(0, Math.min(rows.length - 1, to))]?.focus()
    })

    this.back.addEventListener('click', () => this.showList())
    this.assign.addEventListener('click', () => {
      const me = this.client?.user
      if (me) void this.update({ assignee: me.id })
    })
    this.toggle.addEventListener(
      'click',
      () => void this.update({ status: this.current()?.status === 'open' ? 'closed' : 'open' }),
    )
    const bar = h(
      'div',
      { class: 'bar', part: 'conversation-header' },
      this.back,
      h('div', { class: 'who-box' }, this.who, this.meta),
      this.assign,
      this.toggle,
    )
    this.composer.append(h('label', { for: 'reply', class: 'vh' }), this.input, this.send)
    this.composer.addEventListener('submit', (event) => {
      event.preventDefault()
      this.reply()
    })
    this.input.addEventListener('keydown', (event) => {
      if (event.key === 'Enter' && !event.shiftKey && !event.isComposing) {
        event.preventDefault()
        this.reply()
      }
    })
    this.input.addEventListener('input', () => this.room?.typing())
    this.pane.addEventListener('keydown', (event) => {
      if (event.key === 'Escape' && this.root.classList.contains('reading')) this.showList()
    })
    this.pane.append(bar, this.log, this.typingLine, this.composer)
    this.pane.hidden = true
    document.addEventListener('visibilitychange', () => this.markRead())

    this.nameForm.append(h('label', { for: 'opname' }), this.nameInput, h('button', { class: 'start' }))
    this.nameForm.addEventListener('submit', (event) => {
      event.preventDefault()
      const name = this.nameInput.value.trim()
      if (!name) return
      write('localStorage', NAME, name)
      this.start()
    })
    this.gate.append(this.signIn, this.nameForm)

    const main = h('main', { class: 'main' }, this.banner, this.pick, this.pane)
    this.root.append(nav, main, this.gate)
    this.shadow.append(this.root)
  }

  private label(): void {
    const s = this.strings
    this.root.lang = this.lang
    this.shadow.querySelector('.title')!.textContent = s.inboxTitle
    this.shadow.querySelector('#list-title')!.textContent = s.conversations
    this.filterBar.setAttribute('aria-label', s.filters)
    const names = { open: s.filterOpen, closed: s.filterClosed, mine: s.filterMine, unassigned: s.filterUnassigned }
    for (const b of this.filterBar.children) b.textContent = names[(b as HTMLElement).dataset.filter as Filter]
    this.list.setAttribute('aria-label', s.conversations)
    this.listEmpty.textContent = s.noConversations
    this.moreButton.textContent = s.loadEarlier
    this.pick.textContent = s.pick
    this.back.setAttribute('aria-label', s.back)
    this.log.setAttribute('aria-label', s.log)
    this.composer.querySelector('label')!.textContent = s.reply
    this.input.placeholder = s.placeholder
    this.send.setAttribute('aria-label', s.send)
    this.signIn.textContent = s.signIn
    this.nameForm.querySelector('label')!.textContent = s.yourName
    this.nameForm.querySelector('button')!.textContent = s.start
  }
}
