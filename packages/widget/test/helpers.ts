// Mounts <confab-chat> in happy-dom with a fake client in place of the SDK.
import type { StorageLike } from '@confab/sdk'
import { ConfabChat } from '../src/element'
import { FakeClient } from './fake'

ConfabChat.define()

/** Every client the widget opened, with the arguments it was opened with. */
export const opened: {
  url: string
  /** Who connects: the name or token (the storage passed as `persist` is kept apart, below). */
  options: { name?: string; token?: string }
  persist: StorageLike | undefined
  client: FakeClient
}[] = []

ConfabChat.connect = (url, { persist, ...options }) => {
  const client = new FakeClient()
  opened.push({
    url,
    options: options as { name?: string; token?: string },
    persist: persist === true ? undefined : persist || undefined,
    client,
  })
  return client
}

/** Creates `<confab-chat>` with the given attributes and attaches it to the body. */
export function mount(attrs: Record<string, string> = {}): ConfabChat {
  const el = document.createElement('confab-chat') as ConfabChat
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, v)
  document.body.append(el)
  return el
}

/** The element's shadow root (open by contract). */
export function shadow(el: ConfabChat): ShadowRoot {
  if (!el.shadowRoot) throw new Error('no shadow root')
  return el.shadowRoot
}

/** The first element matching `selector` inside the widget's shadow root. */
export function part<T extends Element = HTMLElement>(el: ConfabChat, selector: string): T {
  const found = shadow(el).querySelector<T>(selector)
  if (!found) throw new Error(`nothing matches ${selector}`)
  return found
}

/** Texts of the message bubbles in order. */
export function bubbles(el: ConfabChat): string[] {
  return [...shadow(el).querySelectorAll('.bubble')].map((b) => b.textContent ?? '')
}

/** The last client the widget opened. */
export function lastClient(): FakeClient {
  const last = opened.at(-1)
  if (!last) throw new Error('the widget opened no client')
  return last.client
}

/** Removes every widget and forgets opened clients and stored names. */
export function cleanup(): void {
  document.body.replaceChildren()
  opened.length = 0
  localStorage.clear()
  sessionStorage.clear()
}

/** A client that is open and has joined: presence delivered with the given members. */
export function joinedClient(members = [{ id: 'u-me', name: 'Me' }]): FakeClient {
  const client = lastClient()
  client.setStatus('open')
  client.room.emit('presence', members)
  return client
}
