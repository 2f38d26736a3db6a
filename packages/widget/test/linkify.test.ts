import { describe, expect, it } from 'vitest'
import { LINK_REL, linkify, safeUrl } from '../src/linkify'

function render(text: string): HTMLDivElement {
  const div = document.createElement('div')
  div.append(linkify(text))
  return div
}

describe('linkify', () => {
  it('links http and https URLs with a safe rel and a new tab', () => {
    const div = render('see https://example.com/a?b=1 and http://x.test')
    const links = [...div.querySelectorAll('a')]
    expect(links.map((a) => a.getAttribute('href'))).toEqual(['https://example.com/a?b=1', 'http://x.test/'])
    for (const a of links) {
      expect(a.getAttribute('rel')).toBe('noopener noreferrer nofollow ugc')
      expect(a.getAttribute('target')).toBe('_blank')
      expect(a.getAttribute('part')).toBe('link')
    }
    expect(LINK_REL).toBe('noopener noreferrer nofollow ugc')
    expect(div.textContent).toBe('see https://example.com/a?b=1 and http://x.test')
  })

  it('links mailto addresses', () => {
    const a = render('write mailto:team@example.com').querySelector('a')
    expect(a?.getAttribute('href')).toBe('mailto:team@example.com')
  })

  it('never links javascript:, data: or vbscript: URLs, plain or entity-encoded', () => {
    for (const text of [
      'javascript:alert(1)',
      'JaVaScRiPt:alert(1)',
      'data:text/html,<script>alert(1)</script>',
      'vbscript:msgbox(1)',
      '&#106;avascript:alert(1)',
      'java&#x09;script:alert(1)',
      '<a href="javascript:alert(1)">x</a>',
    ]) {
      const div = render(text)
      expect(div.querySelector('a')).toBeNull()
      expect(div.textContent).toBe(text)
    }
  })

  it('keeps markup around and inside a URL as text', () => {
    const div = render('<img src=x onerror=alert(1)>https://ok.test/"><b>x</b>')
    expect(div.querySelectorAll('img, b')).toHaveLength(0)
    expect(div.querySelector('a')?.getAttribute('href')).toBe('https://ok.test/')
    expect(div.textContent).toBe('<img src=x onerror=alert(1)>https://ok.test/"><b>x</b>')
  })

  it('leaves sentence punctuation out of the link but keeps a balanced closing paren', () => {
    expect(render('go to https://a.test/x.').querySelector('a')?.textContent).toBe('https://a.test/x')
    expect(render('https://en.wikipedia.org/wiki/Foo_(bar)').querySelector('a')?.textContent).toBe(
      'https://en.wikipedia.org/wiki/Foo_(bar)',
    )
  })

  it('leaves a scheme without a host as text', () => {
    const div = render('just http:// here')
    expect(div.querySelector('a')).toBeNull()
    expect(div.textContent).toBe('just http:// here')
  })

  it('safeUrl accepts only http, https and mailto', () => {
    expect(safeUrl('https://a.test')?.href).toBe('https://a.test/')
    expect(safeUrl('javascript:alert(1)')).toBeNull()
    expect(safeUrl('not a url')).toBeNull()
  })
})
