import { ConfabChat } from './element.js'

// Side effect by design: importing this module registers <confab-chat> (guarded, so twice is harmless).
ConfabChat.define()

declare global {
  interface HTMLElementTagNameMap {
    'confab-chat': ConfabChat
  }
}

export { ConfabChat }
