import { readdirSync } from 'node:fs'
import { resolve } from 'node:path'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { BUNDLED, direction, en, localeSource, locales, requestLocale, type Strings } from '../src/strings'
import { msg } from './fake'
import { cleanup, joinedClient, mount, part, shadow } from './helpers'

/**
 * Every key of the English table: each locale must translate all of them, so a new English string fails
 * here until every locale has it.
 */
const KEYS = Object.keys(en)

const DIR = resolve(__dirname, '../src/locales')
const FILES = readdirSync(DIR)
  .filter((f) => f.endsWith('.ts'))
  .map((f) => f.slice(0, -3))
const load = async (tag: string): Promise<Partial<Strings>> => (await import(`../src/locales/${tag}.ts`)).default

afterEach(() => {
  cleanup()
  vi.unstubAllGlobals()
  localeSource.base = ''
  for (const tag of BUNDLED) delete locales[tag]
})

describe('bundled locales', () => {
  it('ships at least ten, among them Arabic, Hebrew and a CJK language, each listed in BUNDLED', () => {
    expect(FILES.length).toBeGreaterThanOrEqual(10)
    expect(FILES).toEqual(expect.arrayContaining(['ar', 'he', 'ja']))
    expect([...FILES].sort()).toEqual([...BUNDLED].sort())
  })

  it.each(FILES)('%s translates every English key, keeps its placeholders, and adds no key', async (tag) => {
    const table = await load(tag)
    expect(Object.keys(table).sort()).toEqual([...KEYS].sort())
    for (const key of Object.keys(table)) expect(Object.keys(en), `${tag}.${key}`).toContain(key)
    const holes = (text: string) => (text.match(/\{\w+\}/g) ?? []).sort()
    for (const [key, text] of Object.entries(table)) {
      expect(holes(text as string), `${tag}.${key}`).toEqual(holes(en[key as keyof Strings]))
      expect((text as string).trim(), `${tag}.${key}`).not.toBe('')
    }
  })

  it('lays Arabic and Hebrew out right to left, others left to right, and leaves no lang to the page', () => {
    expect(['ar', 'he', 'ar-EG', 'HE'].map(direction)).toEqual(['rtl', 'rtl', 'rtl', 'rtl'])
    expect(['ja', 'en', 'de-AT'].map(direction)).toEqual(['ltr', 'ltr', 'ltr'])
    expect(direction('')).toBe('')
  })
})

describe('loading a locale', () => {
  it('fetches a bundled locale from beside widget.js once, for every element that asked', async () => {
    const ja = await load('ja')
    const fetch = vi.fn(async () => new Response(JSON.stringify(ja)))
    vi.stubGlobal('fetch', fetch)
    localeSource.base = 'https://cdn.example.com/npm/@confab/widget/dist/locales/'
    const done = vi.fn()
    requestLocale('ja-JP', done)
    requestLocale('ja', done)
    await vi.waitFor(() => expect(done).toHaveBeenCalledTimes(2))
    expect(fetch).toHaveBeenCalledTimes(1)
    expect(fetch).toHaveBeenCalledWith('https://cdn.example.com/npm/@confab/widget/dist/locales/ja.json')
    requestLocale('ja', done)
    expect(fetch).toHaveBeenCalledTimes(1)
  })

  it('fetches nothing for a language it does not ship, or without a source (an npm import)', () => {
    const fetch = vi.fn()
    vi.stubGlobal('fetch', fetch)
    requestLocale('ja', () => {})
    localeSource.base = 'https://chat.example.com/locales/'
    requestLocale('xx', () => {})
    requestLocale('en', () => {})
    expect(fetch).not.toHaveBeenCalled()
  })

  it('keeps English when the fetch fails', async () => {
    vi.stubGlobal(
      'fetch',
      vi.fn(async () => new Response('nope', { status: 404 })),
    )
    localeSource.base = 'https://chat.example.com/locales/'
    const done = vi.fn()
    requestLocale('ar', done)
    await new Promise((r) => setTimeout(r, 0))
    expect(done).not.toHaveBeenCalled()
    expect(locales.ar).toBeUndefined()
  })
})

describe('lang on the element', () => {
  it('switches every label once the locale arrives, and lays the panel out right to left', async () => {
    const ar = await load('ar')
    const fetch = async (url: string) => new Response(JSON.stringify(await load(url.slice(-7, -5))))
    vi.stubGlobal('fetch', vi.fn(fetch))
    localeSource.base = 'https://chat.example.com/locales/'
    const el = mount({ mode: 'inline' })
    expect(part<HTMLTextAreaElement>(el, 'textarea').placeholder).toBe(en.placeholder)
    el.lang = 'ar'
    await vi.waitFor(() => expect(part<HTMLTextAreaElement>(el, 'textarea').placeholder).toBe(ar.placeholder))
    const root = part(el, '[part=root]')
    expect(root.dir).toBe('rtl')
    expect(root.lang).toBe('ar')
    expect(part(el, '[part=send-button]').getAttribute('aria-label')).toBe(ar.send)
    expect(part(el, '[part=close-button]').getAttribute('aria-label')).toBe(ar.close)
    expect(part(el, 'form.name-form button').textContent).toBe(ar.start)
    el.lang = 'ja'
    await vi.waitFor(() => expect(part(el, '[part=send-button]').getAttribute('aria-label')).toBe('送信'))
    expect(root.dir).toBe('ltr')
  })

  it('marks user text dir="auto": the composer, the name field, message bubbles and sender names', () => {
    const el = mount({ name: 'Me', mode: 'inline' })
    expect(part(el, 'textarea').getAttribute('dir')).toBe('auto')
    expect(part(el, 'form.name-form input').getAttribute('dir')).toBe('auto')
    joinedClient().room.emit('message', msg('مرحبا'))
    const bubble = shadow(el).querySelector('.bubble')
    expect(bubble?.getAttribute('dir')).toBe('auto')
    expect(bubble?.closest('.msg')?.querySelector('.author')?.getAttribute('dir')).toBe('auto')
  })
})
