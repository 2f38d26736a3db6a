import type { Message } from './client.js'

/** The emoji of the reaction picker: a handful, as in most chats (the relay accepts any single emoji). */
export const EMOJI = ['👍', '❤️', '😂', '😮', '😢', '🎉']

/** `message` with the user's reaction `emoji` toggled: what a reaction shows until the relay's answer. */
export function toggled(message: Message, emoji: string): Message {
  const reactions = { ...message.reactions }
  const mine = !reactions[emoji]?.mine
  const count = (reactions[emoji]?.count ?? 0) + (mine ? 1 : -1)
  if (count > 0) reactions[emoji] = { count, mine }
  else delete reactions[emoji]
  return { ...message, reactions }
}

/** `lang` when Intl knows it as a language tag, else undefined (the browser's locale): a bad attribute breaks nothing. */
export function locale(lang: string): string | undefined {
  try {
    return Intl.getCanonicalLocales(lang)[0]
  } catch (error) {
    if (!(error instanceof RangeError)) throw error
    return undefined
  }
}
