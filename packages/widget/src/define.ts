import { ConfabChat } from './element.js'

// Side effect by design: importing this module registers <confab-chat> (guarded, so twice is harmless).
// On a server (no custom element registry) it registers nothing, so server-side rendering can import it.
if (typeof customElements !== 'undefined') ConfabChat.define()

declare global {
  interface HTMLElementTagNameMap {
    'confab-chat': ConfabChat
  }
  interface DocumentEventMap {
    /** The script-tag build mounted its widget (`element` is null without `data-room`). */
    'confab-ready': CustomEvent<{ element: ConfabChat | null }>
  }
}

export { ConfabChat }
