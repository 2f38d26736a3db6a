// Text on the accent colour (the header, own bubbles, buttons) must stay readable whatever accent a site picks.

/** Relative luminance (WCAG 2.x) of an sRGB colour given as 0-255 channels. */
export function luminance(r: number, g: number, b: number): number {
  const lin = (c: number): number => {
    const v = c / 255
    return v <= 0.04045 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4
  }
  return 0.2126 * lin(r) + 0.7152 * lin(g) + 0.0722 * lin(b)
}

/** WCAG contrast ratio of two luminances. */
export const ratio = (a: number, b: number): number => (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05)

/**
 * Black or white, whichever contrasts more with `color`, a computed CSS colour (`rgb(…)` or `rgba(…)`, as
 * getComputedStyle serializes hex and rgb accents). Null for a form it cannot read (the default white stays).
 */
export function accentText(color: string): '#000' | '#fff' | null {
  const m = /^rgba?\(\s*([\d.]+)[\s,]+([\d.]+)[\s,]+([\d.]+)/.exec(color)
  if (!m) return null
  const l = luminance(Number(m[1]), Number(m[2]), Number(m[3]))
  return ratio(l, 0) > ratio(l, 1) ? '#000' : '#fff'
}
