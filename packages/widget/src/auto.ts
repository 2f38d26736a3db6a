// The <script src=".../widget.js" data-room="..."> entry (IIFE): registers the element and
// mounts one widget configured by the script tag's own data-* attributes.
import { ConfabChat } from './element.js'

/** data-* attributes copied onto the mounted element. */
const COPIED = ['relay', 'room', 'name', 'token', 'mode', 'theme', 'title', 'placeholder', 'lang', 'position', 'open']

// Captured now: document.currentScript is only set while this file first runs.
const script = document.currentScript as HTMLScriptElement | null

/** Creates the widget from the script tag, once per page, then announces it with `confab-ready` on document. */
function mount(): void {
  let element = document.querySelector<ConfabChat>('confab-chat[data-confab-auto]')
  if (!element && script?.dataset.room !== undefined) {
    element = document.createElement('confab-chat') as ConfabChat
    element.setAttribute('data-confab-auto', '')
    element.setAttribute('mode', 'launcher')
    for (const name of COPIED) {
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
