import type { Message } from '@confab/sdk/protocol'
import type { Store } from './store/types'

export type { Message, Store }
export const x = 1
