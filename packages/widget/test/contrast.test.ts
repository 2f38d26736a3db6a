import { describe, expect, it } from 'vitest'
import { accentText, luminance, ratio } from '../src/contrast'

describe('text on the accent', () => {
  it('keeps white on the default blue accent', () => {
    expect(accentText('rgb(36, 86, 211)')).toBe('#fff')
  })

  it('picks black on a light accent, where white would be unreadable', () => {
    // White on this yellow is 1.5:1; black is 14:1.
    expect(ratio(luminance(255, 214, 0), 1)).toBeLessThan(2)
    expect(accentText('rgb(255, 214, 0)')).toBe('#000')
    expect(accentText('rgba(144, 238, 144, 1)')).toBe('#000')
  })

  it('reads the space-separated form too, and leaves forms it cannot read to the default', () => {
    expect(accentText('rgb(255 214 0 / 0.9)')).toBe('#000')
    expect(accentText('oklch(0.9 0.1 100)')).toBeNull()
  })
})
