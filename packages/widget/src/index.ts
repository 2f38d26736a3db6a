/**
 * `@confab/widget`: importing it registers `<confab-chat>`. For the class alone,
 * without registration, import `@confab/widget/element`.
 */
export type { ChatClient, ChatRoom, Connect, ConnectOptions, Status } from './client.js'
export { ConfabChat } from './define.js'
export type { ConfabChatAttributes, ConfabChatEventMap } from './element.js'
export type { Strings } from './strings.js'
