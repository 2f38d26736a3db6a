// `import type {} from '@confab/widget/react'` once in a React 19 app types <confab-chat> in its JSX.
// A separate entry so that apps without @types/react never see a reference to it.
import type * as React from 'react'
import type { ConfabChat } from './element.js'
import type { ConfabChatProps } from './jsx.js'

export type { ConfabChatProps } from './jsx.js'

declare module 'react' {
  namespace JSX {
    interface IntrinsicElements {
      'confab-chat': Omit<
        React.DetailedHTMLProps<React.HTMLAttributes<ConfabChat>, ConfabChat>,
        keyof ConfabChatProps
      > &
        ConfabChatProps
    }
  }
}
