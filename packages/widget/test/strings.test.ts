import { afterEach, describe, expect, it } from 'vitest'
import { ConfabChat } from '../src/element'
import { en, format, locales, resolveStrings } from '../src/strings'
import { cleanup, mount, part } from './helpers'

afterEach(() => {
  cleanup()
  delete locales.fr
  delete locales['fr-ca']
})

describe('strings', () => {
  it('fills placeholders and leaves unknown ones alone', () => {
    expect(format('{a} and {b} {c}', { a: 'Kira', b: 'Bo' })).toBe('Kira and Bo {c}')
  })

  it('is English by default', () => {
    expect(resolveStrings('')).toEqual(en)
    expect(resolveStrings('de')).toEqual(en)
  })

  it('picks a registered locale by lang, region first, then language, then English', () => {
    locales.fr = { send: 'Envoyer', close: 'Fermer' }
    locales['fr-ca'] = { send: 'Envoyer!' }
    expect(resolveStrings('fr').send).toBe('Envoyer')
    expect(resolveStrings('fr-CA').send).toBe('Envoyer!')
    expect(resolveStrings('fr-CA').close).toBe('Fermer')
    expect(resolveStrings('fr-CA').retry).toBe('Retry')
  })

  it('matches locale tags in any case, as BCP 47 says', () => {
    locales['pt-BR'] = { send: 'Enviar' }
    try {
      expect(resolveStrings('pt-BR').send).toBe('Enviar')
      expect(resolveStrings('pt-br').send).toBe('Enviar')
      locales.FR = { close: 'Fermer' }
      expect(resolveStrings('fr-CA').close).toBe('Fermer')
    } finally {
      delete locales['pt-BR']
      delete locales.FR
    }
  })

  it('exposes the locale table as ConfabChat.locales', () => {
    expect(ConfabChat.locales).toBe(locales)
  })

  it('relabels the UI when lang changes', () => {
    locales.fr = { send: 'Envoyer', placeholder: 'Votre message' }
    const el = mount({ name: 'Me', mode: 'inline' })
    el.lang = 'fr'
    expect(part(el, '[part=send-button]').getAttribute('aria-label')).toBe('Envoyer')
    expect(part<HTMLTextAreaElement>(el, '[part=input]').placeholder).toBe('Votre message')
    expect(part(el, '[part=root]').lang).toBe('fr')
  })

  it('replaces any string through the strings property', () => {
    const el = mount({ name: 'Me' })
    el.strings = { open: 'Talk to us', log: 'Conversation' }
    expect(part(el, '[part=launcher]').getAttribute('aria-label')).toBe('Talk to us')
    expect(part(el, '[part=log]').getAttribute('aria-label')).toBe('Conversation')
    expect(el.strings.send).toBe('Send')
  })

  it('uses the title and placeholder attributes over the strings', () => {
    const el = mount({ name: 'Me', title: 'Support', placeholder: 'Ask away' })
    expect(part(el, '[part=title]').textContent).toBe('Support')
    expect(part<HTMLTextAreaElement>(el, '[part=input]').placeholder).toBe('Ask away')
  })
})
