// The <script src=".../widget.js" data-room="..."> (or data-conversation) entry (IIFE): registers the element and
// mounts one widget configured by the script tag's own data-* attributes.
import { ConfabChat } from './element.js'

// Captured now: document.currentScript is only set while this file first runs.
const script = document.currentScript as HTMLScriptElement | null

/** Creates the widget from the script tag, once per page, then announces it with `confab-ready` on document. */
function mount(): void {
  let element = document.querySelector<ConfabChat>('confab-chat[data-confab-auto]')
  if (!element && (script?.dataset.room !== undefined || script?.dataset.conversation !== undefined)) {
    element = document.createElement('confab-chat') as ConfabChat
    element.setAttribute('data-confab-auto', '')
    element.setAttribute('mode', 'launcher')
    // Every attribute of the element can come from the script tag as data-NAME.
    for (const name of ConfabChat.observedAttributes) {
      const value = script.getAttribute(`data-${name}`)
      if (value !== null) element.setAttribute(name, value)
    }
    document.body.append(element)
  }
  document.dispatchEvent(new CustomEvent('confab-ready', { detail: { element } }))
}

if (script?.src) ConfabChat.defaultRelay = new URL(script.src).origin
ConfabChat.define()
if (document.body) mount()
else document.addEventListener('DOMContentLoaded', mount, { once: true })
