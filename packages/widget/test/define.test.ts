import { describe, expect, it } from 'vitest'

describe('registration', () => {
  it('the element module registers nothing on import', async () => {
    const { ConfabChat } = await import('../src/element')
    expect(ConfabChat).toBeTypeOf('function')
    expect(customElements.get('confab-chat')).toBeUndefined()
  })

  it('the package entry registers <confab-chat>, and loading it twice is harmless', async () => {
    const { ConfabChat } = await import('../src/index')
    expect(customElements.get('confab-chat')).toBe(ConfabChat)
    expect(() => ConfabChat.define()).not.toThrow()
    expect(customElements.get('confab-chat')).toBe(ConfabChat)
  })
})
