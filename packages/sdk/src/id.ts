/**
 * A new message id: time-ordered base-36 plus 8 random characters, unique enough within a room's
 * idempotency window. Exported so an app (the widget) can know a message's id before it is sent,
 * and pass it with `send(text, { id })`.
 */
export const newId = (): string => Date.now().toString(36) + Math.random().toString(36).slice(2, 10)
