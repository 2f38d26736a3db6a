import { afterEach, describe, expect, it, vi } from 'vitest'
import { ConfabChat } from '../src/element'
import { FakeClient } from './fake'
import { cleanup, lastClient, mount, opened, part, shadow } from './helpers'

afterEach(cleanup)

describe('attributes and properties', () => {
  it.each([
    ['relay', 'wss://a.example/ws', 'https://b.example'],
    ['room', 'support', 'sales'],
    ['name', 'Kira', 'Bo'],
    ['token', 't0k', 't1k'],
    ['mode', 'inline', 'launcher'],
    ['theme', 'dark', 'light'],
    ['title', 'Help', 'Support'],
    ['placeholder', 'Ask us', 'Ask away'],
    ['lang', 'fr', 'de'],
    ['position', 'left', 'right'],
    ['persist', 'session', 'none'],
  ])('reflects the %s attribute to its property and back', (attr, fromAttribute, fromProperty) => {
    const el = mount() as unknown as Record<string, string> & ConfabChat
    el.setAttribute(attr, fromAttribute)
    expect(el[attr]).toBe(fromAttribute)
    el[attr] = fromProperty
    expect(el.getAttribute(attr)).toBe(fromProperty)
  })

  it('has documented defaults: launcher mode, auto theme, right side, room lobby, persist local', () => {
    const el = mount()
    expect([el.mode, el.theme, el.position, el.room, el.opened, el.persist]).toEqual([
      'launcher',
      'auto',
      'right',
      'lobby',
      false,
      'local',
    ])
  })

  it('observes exactly the attributes of its table, each one once', () => {
    expect([...ConfabChat.observedAttributes].sort()).toEqual(
      [
        'conversation',
        'greeting',
        'team',
        'reply-time',
        'lang',
        'mode',
        'name',
        'open',
        'persist',
        'placeholder',
        'position',
        'relay',
        'room',
        'theme',
        'title',
        'token',
      ].sort(),
    )
  })

  it.each(['relay', 'room', 'name', 'token', 'persist', 'conversation'])(
    'opens a new connection when %s changes',
    (attr) => {
      const el = mount({ name: 'Kira', mode: 'inline' })
      const first = lastClient()
      el.setAttribute(attr, attr === 'persist' ? 'none' : 'changed')
      expect(first.closed).toBe(true)
      expect(opened).toHaveLength(2)
    },
  )

  it.each(['theme', 'placeholder', 'title', 'lang', 'position', 'mode', 'greeting', 'team', 'reply-time'])(
    'keeps the connection when %s changes',
    (attr) => {
      const el = mount({ name: 'Kira', mode: 'inline' })
      el.setAttribute(attr, attr === 'mode' ? 'inline' : 'left')
      expect(opened).toHaveLength(1)
      expect(lastClient().closed).toBe(false)
    },
  )

  it('reflects the open attribute to the opened property', () => {
    const el = mount()
    el.opened = true
    expect(el.hasAttribute('open')).toBe(true)
    el.removeAttribute('open')
    expect(el.opened).toBe(false)
  })

  it('takes a property set before the element was defined', () => {
    const el = document.createElement('confab-chat-late') as ConfabChat
    ;(el as unknown as Record<string, string>).room = 'early'
    document.body.append(el)
    class Late extends ConfabChat {}
    Late.define('confab-chat-late')
    expect(el.getAttribute('room')).toBe('early')
  })

  it('connects to the relay attribute with the name attribute', () => {
    mount({ relay: 'wss://chat.example.com/ws', name: 'Kira', mode: 'inline' })
    expect(opened.map((o) => [o.url, o.options])).toEqual([['wss://chat.example.com/ws', { name: 'Kira' }]])
    expect(lastClient().room.name).toBe('lobby')
  })

  it('defaults the relay to ConfabChat.defaultRelay, then to the page origin', () => {
    mount({ name: 'Kira', mode: 'inline' })
    expect(opened[0]?.url).toBe(location.origin)
    ConfabChat.defaultRelay = 'https://relay.example'
    try {
      mount({ name: 'Kira', mode: 'inline' })
      expect(opened[1]?.url).toBe('https://relay.example')
    } finally {
      ConfabChat.defaultRelay = ''
    }
  })

  it('sends the token and asks no name when a token is set', () => {
    const el = mount({ token: 'jwt', mode: 'inline' })
    expect(opened[0]?.options).toEqual({ token: 'jwt' })
    expect(part(el, '[part=name-form]').hidden).toBe(true)
  })

  it('rejoins when the room attribute changes', () => {
    const el = mount({ name: 'Kira', mode: 'inline' })
    const first = lastClient()
    el.room = 'other'
    expect(first.room.left).toBe(true)
    expect(first.closed).toBe(true)
    expect(lastClient().room.name).toBe('other')
  })

  it('uses an injected client and never closes it', () => {
    const client = new FakeClient()
    const el = document.createElement('confab-chat') as ConfabChat
    el.client = client
    el.mode = 'inline'
    document.body.append(el)
    expect(opened).toHaveLength(0)
    expect(client.rooms.map((r) => [r.name, r.options])).toEqual([['lobby', { history: 50 }]])
    el.remove()
    expect(client.room.left).toBe(true)
    expect(client.closed).toBe(false)
  })

  it('leaves the room and closes its own client when removed from the page', () => {
    const el = mount({ name: 'Kira', mode: 'inline' })
    el.remove()
    expect(lastClient().room.left).toBe(true)
    expect(lastClient().closed).toBe(true)
  })
})

describe('display name', () => {
  it('asks for a name once, remembers it in localStorage and connects with it', () => {
    const el = mount({ mode: 'inline' })
    expect(opened).toHaveLength(0)
    const form = part<HTMLFormElement>(el, '[part=name-form]')
    expect(form.hidden).toBe(false)
    expect(part(el, '[part=composer]').hidden).toBe(true)
    part<HTMLInputElement>(el, '[part=name-input]').value = '  Ada  '
    form.dispatchEvent(new Event('submit', { cancelable: true }))
    expect(opened[0]?.options).toEqual({ name: 'Ada' })
    expect(localStorage.getItem('confab:name')).toBe('Ada')
    expect(form.hidden).toBe(true)
    expect(shadow(el).activeElement).toBe(part(el, '[part=input]'))

    el.remove()
    mount({ mode: 'inline' })
    expect(opened[1]?.options).toEqual({ name: 'Ada' })
  })

  it('connects with the name typed even when Web Storage is blocked, and keeps it on a room change', () => {
    const denied = (): never => {
      throw new DOMException('The operation is insecure.', 'SecurityError')
    }
    vi.stubGlobal('localStorage', { getItem: denied, setItem: denied, removeItem: denied })
    try {
      const el = mount({ mode: 'inline' })
      const form = part<HTMLFormElement>(el, '[part=name-form]')
      part<HTMLInputElement>(el, '[part=name-input]').value = 'Ada'
      form.dispatchEvent(new Event('submit', { cancelable: true }))
      expect(opened.map((o) => o.options)).toEqual([{ name: 'Ada' }])
      expect(form.hidden).toBe(true)
      expect(part(el, '[part=composer]').hidden).toBe(false)
      el.room = 'two'
      expect(opened.map((o) => o.options)).toEqual([{ name: 'Ada' }, { name: 'Ada' }])
      expect(form.hidden).toBe(true)
    } finally {
      vi.unstubAllGlobals()
    }
  })

  it('labels the name input', () => {
    const el = mount({ mode: 'inline' })
    const label = part(el, '[part=name-form] label')
    expect(label.getAttribute('for')).toBe(part(el, '[part=name-input]').id)
    expect(label.textContent).toBe('What should we call you?')
  })
})

describe('late configuration', () => {
  it('connects once a name attribute arrives while the name form shows', () => {
    const el = mount({ mode: 'inline' })
    expect(opened).toHaveLength(0)
    el.name = 'Late'
    expect(opened.map((o) => o.options)).toEqual([{ name: 'Late' }])
    expect(part(el, '[part=name-form]').hidden).toBe(true)
  })
})

describe('attached after configuration', () => {
  it('opens, focuses and fires confab-open once for an open attribute set before it was attached', () => {
    const listeners: string[] = []
    vi.stubGlobal('visualViewport', {
      height: 500,
      offsetTop: 0,
      addEventListener: (t: string) => listeners.push(t),
      removeEventListener: vi.fn(),
    })
    try {
      const opens: boolean[] = []
      document.addEventListener('confab-open', (e) => opens.push((e.target as Element).isConnected))
      const el = mount({ name: 'Kira', open: '' })
      expect(opens).toEqual([true])
      expect(listeners).toEqual(['resize', 'scroll'])
      expect(shadow(el).activeElement).toBe(part(el, '[part=input]'))
      expect(opened).toHaveLength(1)
    } finally {
      vi.unstubAllGlobals()
    }
  })
})

describe('launcher mode', () => {
  it('does not connect before it is opened', () => {
    const el = mount({ name: 'Kira' })
    expect(opened).toHaveLength(0)
    el.open()
    expect(opened).toHaveLength(1)
  })

  it('connects on load when a conversation is already active in this tab', () => {
    const el = mount({ name: 'Kira' })
    el.open()
    el.remove()
    mount({ name: 'Kira' })
    expect(opened).toHaveLength(2)
  })

  it('renders a labelled launcher button with aria-expanded and a dialog panel', () => {
    const el = mount({ name: 'Kira' })
    const launcher = part(el, '[part=launcher]')
    const panel = part(el, '[part=panel]')
    expect(launcher.tagName).toBe('BUTTON')
    expect(launcher.getAttribute('aria-label')).toBe('Open chat')
    expect(launcher.getAttribute('aria-expanded')).toBe('false')
    expect(panel.hidden).toBe(true)
    launcher.click()
    expect(launcher.getAttribute('aria-expanded')).toBe('true')
    expect(part(el, '[part=root]').classList.contains('open')).toBe(true)
    expect(panel.hidden).toBe(false)
    expect(panel.getAttribute('role')).toBe('dialog')
    expect(panel.getAttribute('aria-labelledby')).toBe(part(el, '[part=title]').id)
  })

  it('open() and close() toggle the panel and fire confab-open and confab-close that bubble out of the shadow DOM', () => {
    const el = mount({ name: 'Kira' })
    const seen: [string, boolean, boolean][] = []
    for (const type of ['confab-open', 'confab-close']) {
      document.addEventListener(type, (e) => seen.push([e.type, e.bubbles, e.composed]))
    }
    el.open()
    expect(el.hasAttribute('open')).toBe(true)
    el.close()
    expect(el.hasAttribute('open')).toBe(false)
    expect(seen).toEqual([
      ['confab-open', true, true],
      ['confab-close', true, true],
    ])
  })

  it('focuses the message input on open, and Escape closes and returns focus to the launcher', () => {
    const el = mount({ name: 'Kira' })
    el.open()
    const input = part(el, '[part=input]')
    expect(shadow(el).activeElement).toBe(input)
    input.dispatchEvent(new KeyboardEvent('keydown', { key: 'Escape', bubbles: true, composed: true }))
    expect(el.opened).toBe(false)
    expect(shadow(el).activeElement).toBe(part(el, '[part=launcher]'))
  })

  it('Escape on the launcher itself also closes the open panel', () => {
    const el = mount({ name: 'Kira', open: '' })
    const launcher = part(el, '[part=launcher]')
    launcher.dispatchEvent(new KeyboardEvent('keydown', { key: 'Escape', bubbles: true }))
    expect(el.opened).toBe(false)
  })

  it('the close button closes the panel', () => {
    const el = mount({ name: 'Kira', open: '' })
    const close = part(el, '[part=close-button]')
    expect(close.getAttribute('aria-label')).toBe('Close chat')
    close.click()
    expect(el.opened).toBe(false)
  })

  it('counts live messages that arrive while closed on the badge and in the launcher name', async () => {
    const { msg } = await import('./fake')
    const el = mount({ name: 'Kira' })
    el.open()
    const client = lastClient()
    client.room.emit('message', msg('from history'))
    client.room.emit('presence', [{ id: 'u-me', name: 'Me' }])
    el.close()
    client.room.emit('message', msg('one'))
    client.room.emit('message', msg('two'))
    client.room.emit('message', msg('mine', { id: 'u-me', name: 'Me' }))
    const badge = part(el, '[part=badge]')
    expect(badge.hidden).toBe(false)
    expect(badge.textContent).toBe('2')
    expect(part(el, '[part=launcher]').getAttribute('aria-label')).toBe('Open chat, 2 unread')
    el.open()
    expect(badge.hidden).toBe(true)
    // While open the launcher shows the close icon: its name says what pressing it does.
    expect(part(el, '[part=launcher]').getAttribute('aria-label')).toBe('Close chat')
    el.close()
    expect(part(el, '[part=launcher]').getAttribute('aria-label')).toBe('Open chat')
  })

  it('follows the visual viewport while open so the keyboard never covers the input', () => {
    const listeners: string[] = []
    const vv = {
      height: 400,
      offsetTop: 30,
      addEventListener: (t: string) => listeners.push(t),
      removeEventListener: vi.fn(),
    }
    vi.stubGlobal('visualViewport', vv)
    try {
      const el = mount({ name: 'Kira' })
      el.open()
      expect(listeners).toEqual(['resize', 'scroll'])
      const sheet = shadow(el).adoptedStyleSheets[1]
      expect(sheet?.cssRules[0]?.cssText).toContain('--confab-vv-height: 400px')
      el.close()
      expect(sheet?.cssRules.length).toBe(0)
    } finally {
      vi.unstubAllGlobals()
    }
  })

  it('on a phone, makes the open panel a modal dialog and wraps Tab and Shift+Tab inside it', () => {
    const queries: string[] = []
    vi.stubGlobal('matchMedia', (query: string) => {
      queries.push(query)
      return { matches: true, media: query }
    })
    try {
      const el = mount({ name: 'Kira' })
      const panel = part(el, '[part=panel]')
      expect(panel.hasAttribute('aria-modal')).toBe(false)
      el.open()
      expect(queries.at(-1)).toBe('(max-width:479.98px)')
      expect(panel.getAttribute('aria-modal')).toBe('true')
      const close = part(el, '[part=close-button]')
      const send = part(el, '[part=send-button]')
      send.focus()
      const tab = (target: HTMLElement, shiftKey: boolean): boolean =>
        target.dispatchEvent(new KeyboardEvent('keydown', { key: 'Tab', shiftKey, bubbles: true, cancelable: true }))
      expect(tab(send, false)).toBe(false)
      expect(shadow(el).activeElement).toBe(close)
      expect(tab(close, true)).toBe(false)
      expect(shadow(el).activeElement).toBe(send)
      // In the middle, Tab moves on as usual.
      const input = part(el, '[part=input]')
      input.focus()
      expect(tab(input, false)).toBe(true)
      el.close()
      expect(panel.hasAttribute('aria-modal')).toBe(false)
    } finally {
      vi.unstubAllGlobals()
    }
  })

  it('is not modal on a wide screen, where the page stays visible beside the panel', () => {
    vi.stubGlobal('matchMedia', (query: string) => ({ matches: false, media: query }))
    try {
      const el = mount({ name: 'Kira' })
      el.open()
      const send = part(el, '[part=send-button]')
      send.focus()
      expect(part(el, '[part=panel]').hasAttribute('aria-modal')).toBe(false)
      expect(send.dispatchEvent(new KeyboardEvent('keydown', { key: 'Tab', bubbles: true, cancelable: true }))).toBe(
        true,
      )
    } finally {
      vi.unstubAllGlobals()
    }
  })

  it('puts the launcher on the left with position="left"', () => {
    const el = mount({ position: 'left' })
    expect(part(el, '[part=root]').classList.contains('left')).toBe(true)
  })
})

describe('inline mode', () => {
  it('connects at once, shows the panel without a launcher and is not a dialog', () => {
    const el = mount({ name: 'Kira', mode: 'inline' })
    expect(opened).toHaveLength(1)
    expect(part(el, '[part=panel]').hidden).toBe(false)
    expect(part(el, '[part=panel]').hasAttribute('role')).toBe(false)
    expect(part(el, '[part=root]').classList.contains('inline')).toBe(true)
  })
})

describe('styles', () => {
  it('styles the shadow root through adopted stylesheets and writes no style attribute', async () => {
    const { msg } = await import('./fake')
    const el = mount({ name: 'Kira', open: '' })
    lastClient().room.emit('message', msg('hello https://example.com'))
    expect(shadow(el).adoptedStyleSheets.length).toBeGreaterThan(0)
    expect(shadow(el).querySelectorAll('[style], style')).toHaveLength(0)
  })
})

describe('persist: who the visitor is, across pages, tabs and visits', () => {
  const SNAPSHOT = {
    outbox: [{ room: 'lobby', text: 'queued', id: 'm1' }],
    rooms: { lobby: { epoch: 'e', offset: 3 } },
    resume: 'secret',
  }

  it('by default keeps the guest identity in localStorage and the outbox and positions in sessionStorage', () => {
    mount({ name: 'Kira', mode: 'inline' })
    const storage = opened[0]?.persist
    if (!storage) throw new Error('no storage handed to the SDK')
    storage.setItem('confab:wss://x/ws', JSON.stringify(SNAPSHOT))
    expect(localStorage.getItem('confab:wss://x/ws:resume')).toBe('secret')
    expect(JSON.parse(sessionStorage.getItem('confab:wss://x/ws') ?? '')).toEqual({
      outbox: SNAPSHOT.outbox,
      rooms: SNAPSHOT.rooms,
    })
    expect(JSON.parse(storage.getItem('confab:wss://x/ws') ?? '')).toEqual(SNAPSHOT)
    // Another tab, or a return visit: the tab's part is gone, the identity is not.
    sessionStorage.clear()
    expect(JSON.parse(storage.getItem('confab:wss://x/ws') ?? '')).toEqual({ outbox: [], rooms: {}, resume: 'secret' })
    storage.removeItem('confab:wss://x/ws')
    expect(localStorage.getItem('confab:wss://x/ws:resume')).toBe('secret')
  })

  it('persist="session" keeps everything in sessionStorage, the name too', () => {
    const el = mount({ persist: 'session', mode: 'launcher' })
    el.open()
    part<HTMLInputElement>(el, '[part=name-input]').value = 'Ada'
    part(el, '[part=name-form]').dispatchEvent(new Event('submit', { cancelable: true }))
    const storage = opened[0]?.persist
    storage?.setItem('k', JSON.stringify(SNAPSHOT))
    expect(JSON.parse(sessionStorage.getItem('k') ?? '')).toEqual(SNAPSHOT)
    expect(sessionStorage.getItem('confab:name')).toBe('Ada')
    expect(localStorage.length).toBe(0)
  })

  it('persist="none" stores nothing: no SDK storage, no name, no open state', () => {
    const el = mount({ persist: 'none', mode: 'launcher' })
    el.open()
    part<HTMLInputElement>(el, '[part=name-input]').value = 'Ada'
    part(el, '[part=name-form]').dispatchEvent(new Event('submit', { cancelable: true }))
    expect(opened).toHaveLength(1)
    expect(opened[0]?.persist).toBeUndefined()
    el.close()
    expect([localStorage.length, sessionStorage.length]).toEqual([0, 0])
  })

  it("reopens the panel on the tab's next page as it was left, without taking focus", () => {
    const first = mount({ name: 'Kira', room: 'help' })
    first.open()
    first.remove()
    const again = mount({ name: 'Kira', room: 'help' })
    expect(again.opened).toBe(true)
    expect(document.activeElement).not.toBe(again)
    // In place, not flying in as when the visitor opens it.
    expect(part(again, '[part=root]').classList.contains('still')).toBe(true)
    again.close()
    again.remove()
    // Closed by the visitor: closed on the next page too, even where the markup says open.
    const third = mount({ name: 'Kira', room: 'help', open: '' })
    expect(third.opened).toBe(false)
  })
})
