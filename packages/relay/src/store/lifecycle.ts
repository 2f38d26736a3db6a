// The message lifecycle rules (issue 14; docs/protocol.md "Message lifecycle") shared by the stores that
// run them in this process (memory, SQLite). The Redis store runs the same rules in Lua (redis/store-lua.ts).
import type { Message, Reaction, ReadPosition, Update } from '@confab/sdk/protocol'
import { type ChangeDraft, ChangeRefusedError } from './types'

/** Who reacted with what on one message: emoji -> user ids, both in the order they were first added. */
export type Reactors = Record<string, string[]>

/** A change as the log keeps it: its target's state is derived when it is read. */
export type Change = Omit<Update, 'message'>

/** Read positions kept per room; the least recently moved go first past it. */
export const READ_LIMIT = 10_000

/** Other members' positions a `readState` returns. */
export const READS_SHOWN = 50

/** The message as a reader sees it: reactions counted, `mine` set when there is a `viewer`. */
export function view(message: Message, reactors: Reactors | undefined, viewer?: string): Message {
  if (reactors === undefined) return message
  const reactions: Record<string, Reaction> = {}
  let any = false
  for (const [emoji, users] of Object.entries(reactors)) {
    if (users.length === 0) continue
    reactions[emoji] =
      viewer === undefined ? { count: users.length } : { count: users.length, mine: users.includes(viewer) }
    any = true
  }
  return any ? { ...message, reactions } : message
}

/**
 * Refuses a change its target does not allow (`target`: the retained message at `draft.target`, undefined
 * when there is none there or the entry there is a change).
 */
export function check(draft: ChangeDraft, target: Message | undefined, now: number): asserts target is Message {
  if (target === undefined || target.deleted) throw new ChangeRefusedError('not_found', notFound(draft.target))
  if (draft.ownOnly && target.from.id !== draft.from.id)
    throw new ChangeRefusedError('forbidden', `Message ${draft.target} was sent by someone else.`)
  if (draft.action === 'edit' && draft.editWindow > 0 && now > target.ts + draft.editWindow)
    throw new ChangeRefusedError('forbidden', `Message ${draft.target} can no longer be edited.`)
}

/** The `not_found` message for a target offset. */
export function notFound(target: number): string {
  return `No message at offset ${target} (never stored, no longer retained, deleted, or a change).`
}

/** The `limit_exceeded` message. */
export function tooManyReactions(max: number): string {
  return `A message carries at most ${max} different reactions.`
}

/** What a change makes of its (checked) target: the new state, its reactors and, for `react`, whether it is on. */
export function apply(
  draft: ChangeDraft,
  target: Message,
  reactors: Reactors | undefined,
  ts: number,
): { message: Message; reactors: Reactors | undefined; on?: boolean } {
  switch (draft.action) {
    case 'edit': {
      const { meta: _meta, reactions: _reactions, ...rest } = target
      const meta = draft.meta ?? target.meta
      return {
        message: { ...rest, text: draft.text ?? '', ...(meta === undefined ? {} : { meta }), editedAt: ts },
        reactors,
      }
    }
    case 'delete':
      return { message: deleted(target), reactors: undefined }
    case 'react': {
      const emoji = draft.emoji ?? ''
      const users = reactors?.[emoji] ?? []
      const has = users.includes(draft.from.id)
      const on = draft.on ?? !has
      if (on === has) return { message: target, reactors, on }
      const next: Reactors = { ...reactors }
      if (on) {
        if (users.length === 0 && Object.keys(next).length >= draft.maxReactions)
          throw new ChangeRefusedError('limit_exceeded', tooManyReactions(draft.maxReactions))
        next[emoji] = [...users, draft.from.id]
      } else {
        const left = users.filter((user) => user !== draft.from.id)
        if (left.length > 0) next[emoji] = left
        else delete next[emoji]
      }
      return { message: target, reactors: Object.keys(next).length > 0 ? next : undefined, on }
    }
  }
}

/** The tombstone of a deleted message: offset, id, sender and time stay. */
export function deleted(message: Message): Message {
  return {
    room: message.room,
    offset: message.offset,
    id: message.id,
    from: message.from,
    text: '',
    ts: message.ts,
    deleted: true,
  }
}

/** The change event as stored (no target state). */
export function toChange(draft: ChangeDraft, offset: number, ts: number, on?: boolean): Change {
  return {
    room: draft.room,
    offset,
    id: draft.id,
    ts,
    from: draft.from,
    action: draft.action,
    target: draft.target,
    ...(draft.action === 'react' ? { emoji: draft.emoji ?? '', on: on ?? false } : {}),
  }
}

/** `reactors` without `user` (undefined when nothing is left); the same object when `user` had none. */
export function withoutUser(reactors: Reactors | undefined, user: string): Reactors | undefined {
  if (reactors === undefined || !Object.values(reactors).some((users) => users.includes(user))) return reactors
  const next: Reactors = {}
  for (const [emoji, users] of Object.entries(reactors)) {
    const left = users.filter((u) => u !== user)
    if (left.length > 0) next[emoji] = left
  }
  return Object.keys(next).length > 0 ? next : undefined
}

/** Read positions furthest first; equal ones by user id, so every store lists them alike. */
export function furthestFirst(a: ReadPosition, b: ReadPosition): number {
  return b.offset - a.offset || (a.user < b.user ? -1 : a.user > b.user ? 1 : 0)
}
