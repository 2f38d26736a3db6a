// Props of <confab-chat> in JSX, shared by the React and Preact typings (./react.ts, ./preact.ts).
import type { ConfabChatAttributes, ConfabChatEventMap } from './element.js'
import type { Strings } from './strings.js'

/**
 * What `<confab-chat>` takes in JSX besides the framework's own HTML attributes: its attributes, the
 * `strings` property, and one `on` + event name handler per `confab-*` event (React 19 and Preact add a
 * listener for a custom element's `on…` prop under the name that follows, case kept).
 */
export type ConfabChatProps = Partial<ConfabChatAttributes> & {
  /** Opens the launcher's panel (the boolean `open` attribute). */
  open?: boolean
  /** Replaces some UI strings (set as a property). */
  strings?: Partial<Strings>
  'onconfab-message'?: (event: ConfabChatEventMap['confab-message']) => void
  'onconfab-status'?: (event: ConfabChatEventMap['confab-status']) => void
  'onconfab-open'?: (event: ConfabChatEventMap['confab-open']) => void
  'onconfab-close'?: (event: ConfabChatEventMap['confab-close']) => void
  'onconfab-error'?: (event: ConfabChatEventMap['confab-error']) => void
}
