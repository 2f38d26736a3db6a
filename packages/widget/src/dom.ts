/** Attribute values for {@link h}; `false` and `undefined` leave the attribute out. */
export type Attrs = Record<string, string | boolean | undefined>

/**
 * Creates an element with attributes and children. Strings become text nodes
 * (`append` never parses HTML), which is how network text reaches the DOM.
 */
export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs: Attrs = {},
  ...children: (Node | string)[]
): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag)
  for (const [name, value] of Object.entries(attrs)) {
    if (value !== false && value !== undefined) el.setAttribute(name, value === true ? '' : value)
  }
  el.append(...children)
  return el
}

const SVG = 'http://www.w3.org/2000/svg'

/** A 24x24 stroked icon from a constant path; hidden from assistive technology (its button has the name). */
export function icon(d: string, className?: string): SVGSVGElement {
  const svg = document.createElementNS(SVG, 'svg')
  svg.setAttribute('viewBox', '0 0 24 24')
  if (className) svg.setAttribute('class', className)
  svg.setAttribute('aria-hidden', 'true')
  const path = document.createElementNS(SVG, 'path')
  path.setAttribute('d', d)
  svg.append(path)
  return svg
}

/** Icon paths (Feather-style strokes). */
export const ICONS = {
  chat: 'M21 11.5a8.4 8.4 0 0 1-12.3 7.5L3 21l2-5.7A8.5 8.5 0 1 1 21 11.5z',
  close: 'M18 6 6 18M6 6l12 12',
  send: 'M22 2 11 13M22 2l-7 20-4-9-9-4z',
  smile: 'M8 14s1.5 2 4 2 4-2 4-2M9 9h.01M15 9h.01M22 12a10 10 0 1 1-20 0 10 10 0 0 1 20 0z',
  edit: 'M12 20h9M16.5 3.5a2.1 2.1 0 0 1 3 3L7 19l-4 1 1-4z',
  trash: 'M3 6h18M8 6V4h8v2M19 6l-1 14H6L5 6',
}
