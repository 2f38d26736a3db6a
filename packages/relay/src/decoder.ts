import type { ClientFrame, Meta, Position } from '@confab/sdk/protocol'
import { MAX_REF, ROOM_PATTERN } from '@confab/sdk/protocol'
import { ClientError } from './errors'
import { cleanText, isEmoji, isVisible, MAX_EMOJI } from './text'

/** What the decoder needs to know about the relay's limits. */
export interface DecodeLimits {
  /** Deepest nesting of objects and arrays. */
  maxDepth: number
  /** Longest message text, in UTF-16 code units. */
  maxText: number
}

/** The outcome of decoding one text frame: a valid frame, or the error to send back. */
export type Decoded =
  | { ok: true; frame: ClientFrame }
  | {
      ok: false
      error: ClientError
      ref?: string | undefined
      room?: string | undefined
      /** Set when the refused frame is a `hello`: a connection cannot go on without one. */
      hello?: true
    }

/** Longest `ref` and room name come from the protocol, so the SDK checks the same rules; longest message `id`, in characters. */
export { MAX_REF, ROOM_PATTERN }
export const MAX_ID = 64
export const MAX_ROOM = 64

/**
 * Largest `meta` of a publish, in bytes of its JSON. Every stored message is
 * replayed in `joined` and `history` pages, so a message must stay small
 * however large a frame may be.
 */
export const MAX_META = 2048 // 2 KiB

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/
/** A key that could be forbidden: spelled out, or hidden behind any `\u` escape (`"\u005f_proto__"`). */
const MAYBE_FORBIDDEN = /"(?:__proto__|constructor|prototype)"|\\u/

/**
 * Nesting depth of a JSON text, counted on the raw characters so that a
 * 100,000-level document is refused before JSON.parse recurses into it.
 * Brackets inside strings do not count.
 */
export function jsonDepth(text: string, stopAbove: number): number {
  let depth = 0
  let max = 0
  let inString = false
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i)
    if (inString) {
      if (c === 92 /* \ */) i++
      else if (c === 34 /* " */) inString = false
    } else if (c === 34) inString = true
    else if (c === 123 /* { */ || c === 91 /* [ */) {
      depth++
      if (depth > max) {
        max = depth
        if (max > stopAbove) return max
      }
    } else if (c === 125 /* } */ || c === 93 /* ] */) depth--
  }
  return max
}

/** Rejects keys that could reach an object's prototype if anything ever merged this value. */
function reviver(key: string, value: unknown): unknown {
  if (key === '__proto__' || key === 'constructor' || key === 'prototype') {
    throw new ClientError('bad_request', `key "${key}" is not allowed`)
  }
  return value
}

/** Parses JSON safely: depth first, then forbidden keys, never a throw on bad input. */
export function parseJson(text: string, maxDepth: number): unknown {
  if (jsonDepth(text, maxDepth) > maxDepth) throw new ClientError('bad_request', `JSON nested deeper than ${maxDepth}`)
  try {
    // The reviver costs a call per value, so it only runs when a forbidden key could be present;
    // it sees keys after unescaping, so any `\u` escape sends the text through it too.
    return MAYBE_FORBIDDEN.test(text) ? JSON.parse(text, reviver) : JSON.parse(text)
  } catch (error) {
    if (error instanceof ClientError) throw error
    throw new ClientError('bad_request', 'frame is not valid JSON')
  }
}

/** A JSON object: not null, not an array. */
export function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

function bad(message: string): ClientError {
  return new ClientError('bad_request', message)
}

function optionalString(value: unknown, field: string, max: number): string | undefined {
  if (value === undefined) return undefined
  if (typeof value !== 'string' || value.length > max)
    throw bad(`${field} must be a string of at most ${max} characters`)
  if (LONE_SURROGATE.test(value)) throw bad(`${field} is not valid Unicode`)
  return value
}

function requiredString(value: unknown, field: string, max: number): string {
  const result = optionalString(value, field, max)
  if (result === undefined || result.length === 0) throw bad(`${field} is required`)
  return result
}

/** Members one `members` page may hold. */
export const MAX_MEMBERS_PAGE = 200

function count(value: unknown, field: string): number | undefined {
  if (value === undefined) return undefined
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
    throw bad(`${field} must be a non-negative integer`)
  }
  return value
}

/** Validates a room name; the error says which characters are allowed. */
export function checkRoom(value: unknown): string {
  if (typeof value !== 'string' || !ROOM_PATTERN.test(value)) {
    throw bad('room must be 1 to 64 characters: letters, digits, and _ - . : @')
  }
  return value
}

function position(value: unknown): Position | undefined {
  if (value === undefined) return undefined
  if (!isObject(value)) throw bad('since must be { epoch, offset }')
  const epoch = requiredString(value.epoch, 'since.epoch', 128)
  const offset = count(value.offset, 'since.offset') ?? 0
  return { epoch, offset }
}

/**
 * Message text as stored: present, within `maxText`, well-formed Unicode,
 * cleaned by `cleanText` (controls, terminal escapes and bidi overrides
 * removed), and with something visible left.
 */
export function checkText(value: unknown, maxText: number): string {
  if (typeof value !== 'string') throw bad('text must be a string')
  if (value.length > maxText) throw new ClientError('too_large', `text is longer than ${maxText} characters`)
  if (LONE_SURROGATE.test(value)) throw bad('text is not valid Unicode')
  const text = cleanText(value)
  if (!isVisible(text)) throw bad('text is empty')
  return text
}

/** A publish's or edit's `meta`: absent, or an object of at most `MAX_META` bytes as JSON. */
export function checkMeta(value: unknown): Meta | undefined {
  if (value === undefined) return undefined
  if (!isObject(value)) throw bad('meta must be an object')
  if (Buffer.byteLength(JSON.stringify(value)) > MAX_META) {
    throw new ClientError('too_large', `meta is larger than ${MAX_META} bytes`)
  }
  return value
}

/** The offset of the message a change targets: 1 or more. */
function target(value: unknown): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 1) {
    throw bad('offset must be a positive integer')
  }
  return value
}

/** A reaction: one emoji, see `isEmoji`. */
function emoji(value: unknown): string {
  if (typeof value !== 'string' || !isEmoji(value)) {
    throw bad(`emoji must be one emoji (a single grapheme of at most ${MAX_EMOJI} UTF-16 code units)`)
  }
  return value
}

/** One `@`, something on both sides, no spaces: enough to catch typos, not a full RFC 5322 parser. */
export const EMAIL = /^[^\s@]+@[^\s@]+$/

function conversationStatus(value: unknown): 'open' | 'closed' | undefined {
  if (value === undefined) return undefined
  if (value !== 'open' && value !== 'closed') throw bad('status must be "open" or "closed"')
  return value
}

/** Shapes an already parsed value into a client frame; only the fields of the protocol survive. */
function shape(value: Record<string, unknown>, limits: DecodeLimits): ClientFrame {
  switch (value.type) {
    case 'hello': {
      if (value.v !== undefined && value.v !== 1) throw bad('unsupported protocol version')
      const frame: ClientFrame = { type: 'hello' }
      const token = optionalString(value.token, 'token', 8192)
      const name = optionalString(value.name, 'name', 1000)
      const resume = optionalString(value.resume, 'resume', 512)
      const key = optionalString(value.key, 'key', 512)
      if (key !== undefined) frame.key = key
      if (token !== undefined) frame.token = token
      if (name !== undefined) frame.name = name
      if (resume !== undefined) frame.resume = resume
      return frame
    }
    case 'join': {
      const ref = requiredString(value.ref, 'ref', MAX_REF)
      const room = checkRoom(value.room)
      const frame: ClientFrame = { type: 'join', ref, room }
      const since = position(value.since)
      const history = count(value.history, 'history')
      if (since !== undefined) frame.since = since
      if (history !== undefined) frame.history = history
      return frame
    }
    case 'leave': {
      const ref = optionalString(value.ref, 'ref', MAX_REF)
      const room = checkRoom(value.room)
      return ref === undefined ? { type: 'leave', room } : { type: 'leave', ref, room }
    }
    case 'publish': {
      const ref = requiredString(value.ref, 'ref', MAX_REF)
      const room = checkRoom(value.room)
      const id = requiredString(value.id, 'id', MAX_ID)
      const text = checkText(value.text, limits.maxText)
      const extra = checkMeta(value.meta)
      return extra === undefined
        ? { type: 'publish', ref, room, id, text }
        : { type: 'publish', ref, room, id, text, meta: extra }
    }
    case 'edit': {
      const ref = requiredString(value.ref, 'ref', MAX_REF)
      const room = checkRoom(value.room)
      const id = requiredString(value.id, 'id', MAX_ID)
      const offset = target(value.offset)
      const text = checkText(value.text, limits.maxText)
      const extra = checkMeta(value.meta)
      return extra === undefined
        ? { type: 'edit', ref, room, id, offset, text }
        : { type: 'edit', ref, room, id, offset, text, meta: extra }
    }
    case 'delete': {
      const ref = requiredString(value.ref, 'ref', MAX_REF)
      const room = checkRoom(value.room)
      const id = requiredString(value.id, 'id', MAX_ID)
      return { type: 'delete', ref, room, id, offset: target(value.offset) }
    }
    case 'react': {
      const ref = requiredString(value.ref, 'ref', MAX_REF)
      const room = checkRoom(value.room)
      const id = requiredString(value.id, 'id', MAX_ID)
      const offset = target(value.offset)
      const frame: ClientFrame = { type: 'react', ref, room, id, offset, emoji: emoji(value.emoji) }
      if (value.on !== undefined) {
        if (typeof value.on !== 'boolean') throw bad('on must be a boolean')
        frame.on = value.on
      }
      return frame
    }
    case 'typing': {
      const room = checkRoom(value.room)
      if (value.active !== undefined && typeof value.active !== 'boolean') throw bad('active must be a boolean')
      return { type: 'typing', room, active: value.active !== false }
    }
    case 'history': {
      const ref = requiredString(value.ref, 'ref', MAX_REF)
      const room = checkRoom(value.room)
      const frame: ClientFrame = { type: 'history', ref, room }
      const before = count(value.before, 'before')
      const limit = count(value.limit, 'limit')
      if (before !== undefined) frame.before = before
      if (limit !== undefined) frame.limit = limit
      return frame
    }
    case 'members': {
      const ref = requiredString(value.ref, 'ref', MAX_REF)
      const room = checkRoom(value.room)
      const frame: ClientFrame = { type: 'members', ref, room }
      const cursor = optionalString(value.cursor, 'cursor', 256)
      const limit = count(value.limit, 'limit')
      if (cursor !== undefined) frame.cursor = cursor
      if (limit !== undefined) {
        if (limit < 1 || limit > MAX_MEMBERS_PAGE) throw bad(`limit must be 1 to ${MAX_MEMBERS_PAGE}`)
        frame.limit = limit
      }
      return frame
    }
    case 'ping': {
      const ref = optionalString(value.ref, 'ref', MAX_REF)
      return ref === undefined ? { type: 'ping' } : { type: 'ping', ref }
    }
    case 'conversation':
      return { type: 'conversation', ref: requiredString(value.ref, 'ref', MAX_REF) }
    case 'profile': {
      const frame: ClientFrame = { type: 'profile', ref: requiredString(value.ref, 'ref', MAX_REF) }
      const name = optionalString(value.name, 'name', 1000)
      const email = optionalString(value.email, 'email', 254)
      if (email !== undefined && !EMAIL.test(email)) throw bad('email must be an address like name@example.com')
      if (name !== undefined) frame.name = name
      if (email !== undefined) frame.email = email
      return frame
    }
    case 'conversations': {
      const frame: ClientFrame = { type: 'conversations', ref: requiredString(value.ref, 'ref', MAX_REF) }
      const status = conversationStatus(value.status)
      const assignee = optionalString(value.assignee, 'assignee', MAX_ID)
      const cursor = optionalString(value.cursor, 'cursor', 256)
      const limit = count(value.limit, 'limit')
      if (limit !== undefined && (limit < 1 || limit > 100)) throw bad('limit must be 1 to 100')
      if (status !== undefined) frame.status = status
      if (assignee !== undefined) frame.assignee = assignee
      if (cursor !== undefined) frame.cursor = cursor
      if (limit !== undefined) frame.limit = limit
      return frame
    }
    case 'update-conversation': {
      const ref = requiredString(value.ref, 'ref', MAX_REF)
      const id = requiredString(value.id, 'id', MAX_ID)
      const frame: ClientFrame = { type: 'update-conversation', ref, id }
      const status = conversationStatus(value.status)
      if (status !== undefined) frame.status = status
      if (value.assignee === null) frame.assignee = null
      else {
        const assignee = optionalString(value.assignee, 'assignee', MAX_ID)
        if (assignee !== undefined) frame.assignee = assignee
      }
      return frame
    }
    case 'read': {
      const ref = optionalString(value.ref, 'ref', MAX_REF)
      const room = checkRoom(value.room)
      const offset = count(value.offset, 'offset')
      if (offset === undefined) throw bad('offset is required')
      return ref === undefined ? { type: 'read', room, offset } : { type: 'read', ref, room, offset }
    }
    default:
      throw bad(typeof value.type === 'string' ? 'unknown frame type' : 'frame has no type')
  }
}

/** The ref and room of a rejected frame, when they are plain short strings, so the error can point back. */
function context(value: unknown): { ref?: string; room?: string } {
  if (!isObject(value)) return {}
  const out: { ref?: string; room?: string } = {}
  if (typeof value.ref === 'string' && value.ref.length <= MAX_REF && !LONE_SURROGATE.test(value.ref)) {
    out.ref = value.ref
  }
  if (typeof value.room === 'string' && ROOM_PATTERN.test(value.room)) out.room = value.room
  return out
}

const CONTEXT_KEYS = new Set(['type', 'ref', 'room'])

/** Index of the quote closing the string that opens at `start`, or -1 when the text ends first. */
function stringEnd(text: string, start: number): number {
  for (let i = start + 1; i < text.length; i++) {
    const c = text.charCodeAt(i)
    if (c === 92 /* \ */) i++
    else if (c === 34 /* " */) return i
  }
  return -1
}

function skipSpace(text: string, from: number): number {
  let i = from
  for (let c = text.charCodeAt(i); c === 32 || c === 9 || c === 10 || c === 13; c = text.charCodeAt(++i));
  return i
}

/**
 * The top-level `type`, `ref` and `room` of a frame that could not be parsed
 * (too deep, a forbidden key, broken JSON), read in one linear pass over the
 * raw characters: nothing is parsed, recursed into or re-serialized. Only
 * short strings without escapes are taken; the last of duplicate keys wins,
 * as in JSON.parse.
 */
export function scanContext(text: string): { type?: string; ref?: string; room?: string } {
  const found: Record<string, string> = {}
  let depth = 0
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i)
    if (c === 34 /* " */) {
      const end = stringEnd(text, i)
      if (end < 0) break
      // Context keys are at most 4 characters: longer keys are never sliced out.
      const key = depth === 1 && end - i <= 5 ? text.slice(i + 1, end) : ''
      i = end
      if (!CONTEXT_KEYS.has(key)) continue
      const colon = skipSpace(text, end + 1)
      if (text.charCodeAt(colon) !== 58 /* : */) continue
      const start = skipSpace(text, colon + 1)
      i = start - 1
      if (text.charCodeAt(start) !== 34) continue
      const valueEnd = stringEnd(text, start)
      if (valueEnd < 0) break
      i = valueEnd
      if (valueEnd - start - 1 <= MAX_REF) {
        const value = text.slice(start + 1, valueEnd)
        if (!value.includes('\\')) found[key] = value
      }
    } else if (c === 123 /* { */ || c === 91 /* [ */) depth++
    else if (c === 125 /* } */ || c === 93 /* ] */) depth--
  }
  return found
}

/** Decodes one text frame from a client. Never throws: bad input yields the error to answer with. */
export function decodeFrame(text: string, limits: DecodeLimits): Decoded {
  let value: unknown
  try {
    value = parseJson(text, limits.maxDepth)
  } catch (error) {
    const refused = error instanceof ClientError ? error : bad('frame is not valid JSON')
    // The error must still name the frame it answers: a client waits for the answer to its ref
    // (one publish in flight per room), and a refused hello must still end the handshake.
    const scanned = scanContext(text)
    return scanned.type === 'hello'
      ? { ok: false, error: refused, ...context(scanned), hello: true }
      : { ok: false, error: refused, ...context(scanned) }
  }
  if (!isObject(value)) return { ok: false, error: bad('frame must be a JSON object') }
  try {
    return { ok: true, frame: shape(value, limits) }
  } catch (error) {
    const refused = error instanceof ClientError ? error : bad('malformed frame')
    return value.type === 'hello'
      ? { ok: false, error: refused, ...context(value), hello: true }
      : { ok: false, error: refused, ...context(value) }
  }
}
