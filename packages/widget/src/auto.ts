// The <script src=".../widget.js" data-room="..."> (or data-conversation) entry (IIFE): registers the element and
// mounts one widget configured by the script tag's own data-* attributes.
import { ConfabChat } from './element.js'
import { localeSource } from './strings.js'

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

// From a CDN the script's origin is not the relay: `data-relay` names it (every widget on the page uses it).
// Bundled locales sit beside widget.js (dist/locales/ on a CDN, /locales/ on the relay).
if (script?.src) localeSource.base = new URL('locales/', script.src).href
if (script?.dataset.relay) ConfabChat.defaultRelay = script.dataset.relay
else if (script?.src) ConfabChat.defaultRelay = new URL(script.src).origin
ConfabChat.define()
if (document.body) mount()
else document.addEventListener('DOMContentLoaded', mount, { once: true })
