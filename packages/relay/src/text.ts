// What user text, display names and user ids may contain: the one place these
// rules live (docs/protocol.md, "Text, names and ids", says the same in prose).

/**
 * Terminal escape sequences (CSI `ESC [ … final`, OSC `ESC ] … BEL|ST`, the
 * one-byte CSI U+009B, and any other two-character `ESC x`), removed whole
 * so that no `[31m` is left behind once the ESC itself would be gone.
 */
const ESCAPES =
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what this matches
  /\u001b\[[0-?]*[ -/]*[@-~]|\u009b[0-?]*[ -/]*[@-~]|\u001b\][^\u0007\u001b]*(?:\u0007|\u001b\\)?|\u001b[@-_]?/g

/** C0 and C1 controls except tab and newline (carriage returns become newlines first). */
// biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what this matches
const CONTROLS = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/g

/**
 * Bidi embeddings, overrides and isolates (U+202A..U+202E, U+2066..U+2069):
 * they reorder whatever follows, so a link to `…/\u202Etxt.exe` would read
 * `…/exe.txt`. The marks U+200E, U+200F and U+061C only affect neutral
 * characters next to them and stay in message text.
 */
const BIDI_CONTROLS = /[\u202a-\u202e\u2066-\u2069]/g

/**
 * Characters that draw nothing or alter how neighbours display, removed from
 * names so that nobody can look blank or like someone else: every format
 * character (\p{Cf}: soft hyphen, U+061C, zero-width and bidi controls, word
 * joiners, U+FEFF, tags…), controls, and the Hangul fillers and other blank
 * letters (U+115F, U+1160, U+3164, U+FFA0, U+2800, U+180E).
 */
const INVISIBLE_IN_NAMES = /[\p{Cc}\p{Cf}\u115f\u1160\u3164\uffa0\u2800\u180e]/gu

/** Something a reader can see: not a space, line break, mark (variation selectors are marks too), control, format character or blank letter. */
const VISIBLE = /[^\p{M}\p{Z}\p{Cc}\p{Cf}\s\u115f\u1160\u3164\uffa0\u2800\u180e]/u

/** Longest user id (the token's `sub`, a custom `verify`'s id, the HTTP API's `from.id`), in characters. */
export const MAX_USER_ID = 64

/**
 * Message text as stored: terminal escapes, control characters (newline and
 * tab kept, `\r\n` and `\r` become `\n`) and bidi embeddings, overrides and
 * isolates removed. The result may be blank; the caller refuses that.
 */
export function cleanText(text: string): string {
  // Fast path: nearly every message is plain text.
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what this matches
  if (!/[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/.test(text)) return text
  return text.replace(/\r\n?/g, '\n').replace(ESCAPES, '').replace(CONTROLS, '').replace(BIDI_CONTROLS, '')
}

/** True when the text shows at least one visible character. */
export function isVisible(text: string): boolean {
  return VISIBLE.test(text)
}

/**
 * A display name as others will see it: invisible and control characters
 * removed, whitespace collapsed, trimmed, cut to `max` code points. A name
 * with nothing visible left is '' (the caller's fallback applies, as for no name).
 */
export function cleanName(name: string | undefined, max: number): string {
  const clean = (name ?? '').replace(ESCAPES, '').replace(INVISIBLE_IN_NAMES, '').replace(/\s+/g, ' ').trim()
  // Cut by code point so a surrogate pair is never split.
  const cut = Array.from(clean).slice(0, max).join('').trim()
  return isVisible(cut) ? cut : ''
}

/** Why `id` cannot be a user id, or null when it can: 1 to 64 characters, no control characters, something visible. */
export function userIdProblem(id: string): string | null {
  if (id.length === 0 || id.length > MAX_USER_ID) return `must be 1 to ${MAX_USER_ID} characters`
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what this refuses
  if (/[\u0000-\u001f\u007f-\u009f]/.test(id)) return 'must not contain control characters'
  // A token user without a name is shown by its id: it must not be blank.
  if (!isVisible(id)) return 'must have a visible character'
  return null
}

/** Longest reaction emoji, in UTF-16 code units: room for a family ZWJ sequence with skin tones, not for text. */
export const MAX_EMOJI = 32

/** A pictograph or a flag letter: what makes a grapheme an emoji rather than a letter, digit or symbol. */
const PICTOGRAPH = /\p{Extended_Pictographic}|\p{Regional_Indicator}/u

let graphemes: Intl.Segmenter | undefined

/**
 * A reaction: exactly one grapheme (Intl.Segmenter), at most `MAX_EMOJI`
 * UTF-16 code units, holding a pictograph or a regional indicator. So flags,
 * ZWJ sequences and skin tones pass; "a", "ab", ":)" and "😀😀" do not.
 */
export function isEmoji(value: string): boolean {
  if (value.length === 0 || value.length > MAX_EMOJI || !PICTOGRAPH.test(value)) return false
  graphemes ??= new Intl.Segmenter('en', { granularity: 'grapheme' })
  const iterator = graphemes.segment(value)[Symbol.iterator]()
  const first = iterator.next()
  return !first.done && first.value.segment.length === value.length
}
