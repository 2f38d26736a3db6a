/** Every piece of text the widget shows or announces; `{n}`, `{max}`, `{a}`, `{b}` are filled in. */
export const en = {
  title: 'Chat',
  open: 'Open chat',
  openUnread: 'Open chat, {n} unread',
  close: 'Close chat',
  log: 'Messages',
  message: 'Message',
  placeholder: 'Write a message…',
  send: 'Send',
  loadEarlier: 'Load earlier messages',
  newMessages: 'New messages',
  empty: 'No messages yet. Say hello!',
  reconnecting: 'Reconnecting...',
  offline: "Offline: messages will be sent when you're back",
  closed: 'Disconnected',
  unauthorized: 'Your sign-in was not accepted, so the chat is unavailable. Reload the page to try again.',
  siteRefused: 'This chat is not available on this site.',
  forbidden: "You don't have access to this room.",
  tooLong: 'Too long: {n} of {max} characters',
  sending: 'Sending…',
  failed: 'Not sent',
  refusedTooLong: 'Not sent: longer than {max} characters',
  refusedTooLongUnknown: 'Not sent: too long for this chat',
  refusedForbidden: 'Not sent: you may not write in this room',
  refusedBad: 'Not sent: the chat server refused this message',
  unconfirmed: 'Not confirmed yet…',
  retry: 'Retry',
  you: 'You',
  online: '{n} online',
  typing1: '{a} is typing…',
  typing2: '{a} and {b} are typing…',
  typingN: 'Several people are typing…',
  namePrompt: 'What should we call you?',
  name: 'Your name',
  start: 'Start chatting',
  showMore: 'Show more',
  showLess: 'Show less',
}

/** The widget's strings; replace any subset through the `strings` property or a locale. */
export type Strings = typeof en

/**
 * Built-in locales by language tag, English only to keep the bundle small.
 * Add one with `ConfabChat.locales.fr = { ... }`; `lang="fr-CA"` falls back to `fr`, then English.
 */
export const locales: Record<string, Partial<Strings>> = { en }

/**
 * The strings for `lang` (exact tag, then its primary subtag), with `overrides` on top. Tags match in any
 * case, as BCP 47 says: `locales['pt-BR']` serves `lang="pt-br"` and the other way round.
 */
export function resolveStrings(lang: string, overrides: Partial<Strings> = {}): Strings {
  const table = (tag: string): Partial<Strings> | undefined =>
    locales[tag] ?? Object.entries(locales).find(([key]) => key.toLowerCase() === tag.toLowerCase())?.[1]
  return { ...en, ...table(lang.split('-')[0] ?? ''), ...table(lang), ...overrides }
}

/** Fills `{name}` placeholders in a template with the given values. */
export function format(template: string, values: Record<string, string | number>): string {
  return template.replace(/\{(\w+)\}/g, (whole, key: string) => (key in values ? String(values[key]) : whole))
}
