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
