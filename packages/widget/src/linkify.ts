/** Schemes that become links; anything else (javascript:, data:, vbscript:) stays text. */
const SAFE = new Set(['http:', 'https:', 'mailto:'])

/** Candidate links: only these schemes are even considered. */
const CANDIDATE = /\b(?:https?:\/\/|mailto:)[^\s<>"]+/gi

/** Sentence punctuation that usually ends a sentence, not a URL. */
const TRAILING = /[.,;:!?')\]}]+$/

/** Rel for user-supplied links: no opener access, no referrer, no SEO credit. */
export const LINK_REL = 'noopener noreferrer nofollow ugc'

/**
 * Turns message text into text nodes and `<a>` elements. Links are built with `URL`
 * and assigned as properties, never parsed as HTML; everything else stays a text node.
 */
export function linkify(text: string, doc: Document = document): DocumentFragment {
  const out = doc.createDocumentFragment()
  let last = 0
  for (const match of text.matchAll(CANDIDATE)) {
    let raw = match[0]
    const trail = TRAILING.exec(raw)
    // Keep a closing paren that belongs to the URL, as in Wikipedia links.
    if (trail && !(trail[0].startsWith(')') && raw.includes('('))) raw = raw.slice(0, -trail[0].length)
    const url = safeUrl(raw)
    if (!url) continue
    const start = match.index
    if (start > last) out.append(text.slice(last, start))
    const a = doc.createElement('a')
    a.href = url.href
    a.rel = LINK_REL
    a.target = '_blank'
    a.setAttribute('part', 'link')
    a.textContent = raw
    out.append(a)
    last = start + raw.length
  }
  if (last < text.length) out.append(text.slice(last))
  return out
}

/** The parsed URL when `raw` is a well-formed http/https/mailto address, otherwise null. */
export function safeUrl(raw: string): URL | null {
  try {
    const url = new URL(raw)
    return SAFE.has(url.protocol) ? url : null
  } catch {
    // Not a URL after all (e.g. "http://"): it stays plain text, which is the intended outcome.
    return null
  }
}
