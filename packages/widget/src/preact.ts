// `import type {} from '@confab/widget/preact'` once in a Preact app types <confab-chat> in its JSX.
// A separate entry so that apps without Preact never see a reference to it.
import type { HTMLAttributes } from 'preact'
import type { ConfabChat } from './element.js'
import type { ConfabChatProps } from './jsx.js'

export type { ConfabChatProps } from './jsx.js'

declare module 'preact' {
  namespace JSX {
    interface IntrinsicElements {
      'confab-chat': Omit<HTMLAttributes<ConfabChat>, keyof ConfabChatProps> & ConfabChatProps
    }
  }
}
