import { afterEach, describe, expect, it, vi } from 'vitest'

/** Runs src/auto.ts as if loaded by `<script src=SRC data-...>`, with a fresh module registry. */
async function load(src: string, data: Record<string, string>): Promise<HTMLScriptElement> {
  const script = document.createElement('script')
  script.setAttribute('src', src)
  for (const [k, v] of Object.entries(data)) script.setAttribute(`data-${k}`, v)
  Object.defineProperty(document, 'currentScript', { configurable: true, get: () => script })
  vi.resetModules()
  await import('../src/auto')
  Object.defineProperty(document, 'currentScript', { configurable: true, get: () => null })
  return script
}

afterEach(() => {
  document.body.replaceChildren()
  document.head.replaceChildren()
})

describe('script-tag auto-mount', () => {
  it('mounts one launcher configured from the script tag and fires confab-ready', async () => {
    const ready: Element[] = []
    document.addEventListener('confab-ready', (e) => ready.push((e as CustomEvent).detail.element))
    await load('https://chat.example.com/widget.js', {
      room: 'support',
      theme: 'dark',
      title: 'Help',
      position: 'left',
      lang: 'fr',
    })
    const el = document.querySelector('confab-chat')
    expect(el).not.toBeNull()
    expect(ready).toEqual([el])
    expect(['room', 'theme', 'title', 'position', 'lang', 'mode'].map((a) => el?.getAttribute(a))).toEqual([
      'support',
      'dark',
      'Help',
      'left',
      'fr',
      'launcher',
    ])
  })

  it("defaults the relay to the script's origin", async () => {
    await load('https://chat.example.com/assets/widget.js', { room: 'support' })
    const { ConfabChat } = await import('../src/element')
    expect(ConfabChat.defaultRelay).toBe('https://chat.example.com')
  })

  it('loaded from a CDN, takes its relay from data-relay, for the mounted widget and every other one', async () => {
    await load('https://cdn.jsdelivr.net/npm/@confab/widget/dist/widget.js', {
      room: 'support',
      relay: 'https://chat.example.com',
    })
    const { ConfabChat } = await import('../src/element')
    expect(ConfabChat.defaultRelay).toBe('https://chat.example.com')
    expect(document.querySelector('confab-chat')?.getAttribute('relay')).toBe('https://chat.example.com')
  })

  it('honours data-mode="inline"', async () => {
    await load('https://chat.example.com/widget.js', { room: 'lobby', mode: 'inline' })
    expect(document.querySelector('confab-chat')?.getAttribute('mode')).toBe('inline')
  })

  it('loading the script twice registers once and mounts one widget', async () => {
    await load('https://chat.example.com/widget.js', { room: 'support' })
    await expect(load('https://chat.example.com/widget.js', { room: 'support' })).resolves.toBeDefined()
    expect(document.querySelectorAll('confab-chat')).toHaveLength(1)
  })

  it('registers the element but mounts nothing without data-room', async () => {
    await load('https://chat.example.com/widget.js', {})
    expect(customElements.get('confab-chat')).toBeDefined()
    expect(document.querySelector('confab-chat')).toBeNull()
  })
})
