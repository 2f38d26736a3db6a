// A chat bot in Node: joins a room with the Confab SDK and answers commands.
//
//   npm start                          # in one terminal: the relay on http://localhost:8080
//   node examples/node-bot/bot.mjs     # in another: the bot joins `lobby`
//
// Settings: RELAY_URL (default http://localhost:8080), ROOM (default lobby), BOT_NAME (default Botty).
import { pathToFileURL } from 'node:url'
import { connect } from '@confab/sdk'
import WebSocket from 'ws'

/** The bot's reply to `text` from `from`, or undefined when it has nothing to say. */
export function answer(text, from) {
  const command = text.trim().toLowerCase()
  if (command === '!help') return 'Commands: !ping, !time, !roll, !help'
  if (command === '!ping') return 'pong'
  if (command === '!time') return `It is ${new Date().toISOString()} here.`
  if (command === '!roll') return `${from.name} rolled ${1 + Math.floor(Math.random() * 6)}`
  if (/^(hi|hello|hey)\b.*\bbot/.test(command)) return `Hello ${from.name}! Try !help.`
  return undefined
}

/**
 * Connects, joins `room` and answers every message that is not its own.
 * Returns the SDK client; `client.close()` stops the bot.
 */
export function startBot({ url, room = 'lobby', name = 'Botty', log = console.log } = {}) {
  // Node 20 has no global WebSocket: hand the SDK the `ws` package's.
  const client = connect(url, { name, WebSocket })
  client.on('status', (status) => log(`[bot] ${status}`))
  client.on('error', (error) => log(`[bot] error ${error.code}: ${error.message}`))
  const chat = client.join(room)
  chat.on('message', (message) => {
    if (message.from.id === client.user?.id) return
    const reply = answer(message.text, message.from)
    if (reply === undefined) return
    chat.send(reply).catch((error) => log(`[bot] could not answer: ${error.code}`))
  })
  return client
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const url = process.env.RELAY_URL ?? 'http://localhost:8080'
  const client = startBot({ url, room: process.env.ROOM, name: process.env.BOT_NAME })
  console.log(`[bot] joining ${process.env.ROOM ?? 'lobby'} at ${url}; Ctrl-C to stop`)
  process.once('SIGINT', () => {
    client.close()
    process.exit(0)
  })
}
