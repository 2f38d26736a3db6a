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

  // Changing messages: edit and delete one's own, react to any, "Seen" in a conversation.
  react: 'Add reaction',
  edit: 'Edit',
  editLabel: 'Edit message',
  delete: 'Delete',
  confirmDelete: 'Delete this message?',
  cancel: 'Cancel',
  edited: 'edited',
  deleted: 'Message deleted',
  changeFailed: "Couldn't change the message. Try again.",
  seen: 'Seen',

  // Conversation mode (the `conversation` attribute): a private thread with the site's team.
  team: 'Support',
  greeting: 'Hi! Ask us anything, we usually answer here.',
  visitor: 'Visitor',
  operatorOnline: 'Online now',
  operatorAway: "Away: we'll reply as soon as we can",
  replyTime: 'Usually replies in {time}',
  profilePrompt: 'What should we call you? (optional)',
  email: 'Email',
  emailOffline: "No one is here right now. We'll reply by email:",
  emailInvalid: 'Please enter an email address like name@example.com',
  save: 'Save',
  saved: "Thanks, we'll reply to {email}",
  dismiss: 'Not now',

  // The operator inbox (<confab-inbox>).
  inboxTitle: 'Inbox',
  signIn: 'Open the sign-in link the relay printed at startup (it ends in #key=…) to use the inbox.',
  yourName: 'Your name, as visitors will see it',
  filters: 'Show',
  filterOpen: 'Open',
  filterClosed: 'Closed',
  filterMine: 'Mine',
  filterUnassigned: 'Unassigned',
  conversations: 'Conversations',
  noConversations: 'No conversations here.',
  pick: 'Pick a conversation.',
  back: 'Back to conversations',
  assignMe: 'Assign to me',
  assignedTo: 'Assigned to {name}',
  unassigned: 'Unassigned',
  closeConversation: 'Close',
  reopen: 'Reopen',
  statusClosed: 'Closed',
  unreadN: '{n} unread',
  visitorOnline: 'online',
  reply: 'Reply',
  now: 'now',
}

/** The widget's strings; replace any subset through the `strings` property or a locale. */
export type Strings = typeof en

/**
 * Locales in use by language tag: English is built in; the others are loaded (see {@link requestLocale})
 * or added with `ConfabChat.locales.fr = { ... }`; `lang="fr-CA"` falls back to `fr`, then English.
 */
export const locales: Record<string, Partial<Strings>> = { en }

/** The locales the package ships as `dist/locales/TAG.json` (and `.js`), kept out of the English bundle. */
export const BUNDLED = ['ar', 'de', 'es', 'fr', 'he', 'it', 'ja', 'pt', 'ru', 'zh']

/**
 * Where {@link requestLocale} fetches a bundled locale from: the folder of widget.js (`…/locales/`),
 * set by the script-tag build. Empty (an npm import): nothing is fetched; import the table instead.
 */
export const localeSource = { base: '' }

/** Primary subtags of languages written right to left. */
const RTL = ['ar', 'fa', 'he', 'ps', 'ur', 'yi']

/** `rtl` or `ltr` for a language tag; empty without one, so the page's own direction applies. */
export function direction(lang: string): '' | 'ltr' | 'rtl' {
  if (!lang) return ''
  return RTL.includes(lang.split('-')[0]!.toLowerCase()) ? 'rtl' : 'ltr'
}

const loading = new Map<string, Array<() => void>>()

/**
 * Loads the bundled locale of `lang` when it is not there yet, then calls `done` (once per load, for every
 * caller that asked meanwhile); a failed fetch leaves English in place and calls nothing.
 */
export function requestLocale(lang: string, done: () => void): void {
  const tag = lang.split('-')[0]!.toLowerCase()
  if (!localeSource.base || !BUNDLED.includes(tag) || locales[tag]) return
  const waiting = loading.get(tag)
  if (waiting) {
    waiting.push(done)
    return
  }
  loading.set(tag, [done])
  fetch(`${localeSource.base}${tag}.json`)
    .then((response) => (response.ok ? response.json() : Promise.reject(new Error(String(response.status)))))
    .then((table: Partial<Strings>) => {
      locales[tag] ??= table
      for (const callback of loading.get(tag) ?? []) callback()
    })
    .catch(() => {})
    .finally(() => loading.delete(tag))
}

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
