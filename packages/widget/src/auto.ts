import { ConfabChat } from './element'

if (!customElements.get('confab-chat')) customElements.define('confab-chat', ConfabChat)

export { ConfabChat }
