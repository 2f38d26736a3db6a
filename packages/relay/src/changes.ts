import type { Action, Member, Message, Meta, Update } from '@confab/sdk/protocol'
import type { ChangeDraft } from './store/types'

/** A change to a message as the registry makes it (docs/protocol.md, "Message lifecycle"); identity comes from the relay. */
export interface ChangeRequest {
  room: string
  /** Idempotency key, in the sender's message-id namespace. */
  id: string
  from: Member
  action: Action
  /** Offset of the message to change. */
  target: number
  /** `edit`: the new text, already checked and cleaned like a publish's; `meta` replaces the message's when given. */
  text?: string | undefined
  meta?: Meta | undefined
  /** `react`: the emoji, and true to add, false to remove, absent to toggle. */
  emoji?: string | undefined
  on?: boolean | undefined
  /** 'api' for the HTTP API, the site's trusted server: it edits and deletes any message, without an edit window. */
  role?: 'user' | 'guest' | 'api' | undefined
}

/** The relay's settings a change is checked against. */
export interface ChangeRules {
  /** ms after a message's `ts` during which its author may edit it; 0 is unlimited. */
  editWindow: number
  /** Different emoji one message may carry. */
  maxReactions: number
}

/**
 * The store's draft of a change, with who may make it: authors edit their own
 * messages (within the edit window) and delete their own; operators delete
 * any; the HTTP API edits and deletes any; anyone in the room reacts.
 */
export function changeDraft(request: ChangeRequest, rules: ChangeRules): ChangeDraft {
  const api = request.role === 'api'
  const ownOnly =
    request.action === 'edit' ? !api : request.action === 'delete' && !api && request.from.role !== 'operator'
  const draft: ChangeDraft = {
    room: request.room,
    id: request.id,
    from: request.from,
    action: request.action,
    target: request.target,
    ownOnly,
    editWindow: request.action === 'edit' && !api ? rules.editWindow : 0,
    maxReactions: rules.maxReactions,
  }
  if (request.text !== undefined) draft.text = request.text
  if (request.meta !== undefined) draft.meta = request.meta
  if (request.emoji !== undefined) draft.emoji = request.emoji
  if (request.on !== undefined) draft.on = request.on
  return draft
}

/** The message as every member may see it: reactions without the one reader's `mine`. */
export function withoutMine(message: Message): Message {
  if (message.reactions === undefined) return message
  const reactions: Record<string, { count: number }> = {}
  for (const [emoji, { count }] of Object.entries(message.reactions)) reactions[emoji] = { count }
  return { ...message, reactions }
}

/** A change as one frame shared by every member (`update`, webhooks): its message without `mine`. */
export function sharedUpdate(update: Update): Update {
  return update.message === null ? update : { ...update, message: withoutMine(update.message) }
}
