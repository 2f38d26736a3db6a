// All styling goes through constructable stylesheets adopted by the shadow root:
// no <style> text parsed from markup and no style attributes, so the widget keeps
// working under `style-src 'self'` without 'unsafe-inline'.
// The CSS below is written formatted, with its comments beside the rules; the build minifies
// every template literal marked /* css */ (rollup.config.mjs, minifyCss), so they cost no bytes.

/** The light palette: each public --confab-x read into a private --_x, its default as the fallback. */
export const LIGHT = /* css */ `
  --_bg: var(--confab-bg, #fff);
  --_fg: var(--confab-fg, #1b1d22);
  --_muted: var(--confab-muted, #555c68);
  --_border: var(--confab-border, #d3d8e0);
  --_bubble: var(--confab-bubble, #eef1f5);
  --_link: var(--confab-link, #1d4ec0);
  --_banner: var(--confab-banner, #fff4d6);
  --_banner-fg: var(--confab-banner-fg, #4a3600);
  --_danger: var(--confab-danger, #b3261e);
  /* The focus ring follows a custom accent unless --confab-focus says otherwise. */
  --_focus: var(--confab-focus, var(--confab-accent, #2456d3));
`

/** The dark palette. */
export const DARK = /* css */ `
  --_bg: var(--confab-bg, #17191e);
  --_fg: var(--confab-fg, #e9ebef);
  --_muted: var(--confab-muted, #a9b0bb);
  --_border: var(--confab-border, #3a3f48);
  --_bubble: var(--confab-bubble, #272b33);
  --_link: var(--confab-link, #9dbdff);
  --_banner: var(--confab-banner, #4a3a10);
  --_banner-fg: var(--confab-banner-fg, #ffeab0);
  --_danger: var(--confab-danger, #ffb4ab);
  /* The default accent is too dark to ring anything on a dark background: a lighter blue instead. */
  --_focus: var(--confab-focus, var(--confab-accent, #9dbdff));
  color-scheme: dark;
`

/** Below this width the open launcher panel is full-screen (and so a modal dialog). */
export const PHONE = '(max-width:479.98px)'

/** The widget's stylesheet; every colour, size and font comes from a `--confab-*` custom property. */
export const CSS = /* css */ `
/*
 * Each public --confab-x is read once, on :host, into a private --_x with its default as the var()
 * fallback: :host never declares --confab-x itself, so a value set on the element or on any ancestor
 * reaches the widget by inheritance. all:initial stops the host page's inherited text styles
 * (text-align, letter-spacing, ...) from leaking in; the page's own rules on confab-chat still win
 * over it, as outer rules always beat :host.
 */
:host {
  all: initial;
  ${LIGHT}
  --_accent: var(--confab-accent, #2456d3);
  /* --_auto-fg: black or white, whichever reads better on the resolved accent (set by the element). */
  --_accent-fg: var(--confab-accent-fg, var(--_auto-fg, #fff));
  --_font: var(--confab-font, system-ui, -apple-system, "Segoe UI", Roboto, sans-serif);
  --_font-size: var(--confab-font-size, 15px);
  --_radius: var(--confab-radius, 14px);
  --_width: var(--confab-width, 370px);
  --_height: var(--confab-height, 560px);
  --_offset: var(--confab-offset, 20px);
  --_z: var(--confab-z, 2147483000);
  --_shadow: var(--confab-shadow, 0 12px 40px rgb(0 0 0 / .22));
  display: block;
  color-scheme: light;
}
:host([theme=dark]) {
  ${DARK}
}
@media (prefers-color-scheme: dark) {
  :host(:not([theme=light])) {
    ${DARK}
  }
}
:host([hidden]),
[hidden] {
  display: none !important;
}
* {
  box-sizing: border-box;
}
.root {
  font: var(--_font-size)/1.4 var(--_font);
  color: var(--_fg);
}
button,
textarea,
input {
  font: inherit;
  color: inherit;
}
:focus-visible {
  outline: 3px solid var(--_focus);
  outline-offset: 2px;
}
.vh {
  position: absolute !important;
  width: 1px;
  height: 1px;
  overflow: hidden;
  clip: rect(0 0 0 0);
  clip-path: inset(50%);
  white-space: nowrap;
}

/* The launcher: a round button in a corner of the host page. */
.launcher {
  position: fixed;
  bottom: var(--_offset);
  right: var(--_offset);
  z-index: var(--_z);
  width: 56px;
  height: 56px;
  border: 0;
  border-radius: 50%;
  background: var(--_accent);
  color: var(--_accent-fg);
  box-shadow: var(--_shadow);
  cursor: pointer;
  display: grid;
  place-items: center;
  transition: transform .15s;
}
.launcher:hover {
  transform: scale(1.06);
}
/* It sits on the host page, whose colours are unknown: a two-tone ring (ring plus outline). */
.launcher:focus-visible {
  box-shadow: 0 0 0 2px var(--_bg), 0 0 0 5px var(--_focus), var(--_shadow);
  outline: 2px solid var(--_fg);
  outline-offset: 5px;
}
.i-close,
.open .i-chat {
  display: none;
}
.open .i-close {
  display: block;
}
.left .launcher,
.left .panel {
  right: auto;
  left: var(--_offset);
}
.inline .launcher {
  display: none;
}
svg {
  width: 24px;
  height: 24px;
  fill: none;
  stroke: currentColor;
  stroke-width: 2;
  stroke-linecap: round;
  stroke-linejoin: round;
}
.badge {
  position: absolute;
  top: -4px;
  right: -4px;
  min-width: 22px;
  height: 22px;
  padding: 0 6px;
  border-radius: 11px;
  background: var(--_danger);
  color: var(--_bg);
  font-size: 12px;
  font-weight: 700;
  line-height: 22px;
}

/* The panel: a floating card in launcher mode, the element's whole box inline. */
.panel {
  display: flex;
  flex-direction: column;
  background: var(--_bg);
  color: var(--_fg);
  overflow: hidden;
}
.launcher-mode .panel {
  position: fixed;
  z-index: var(--_z);
  bottom: calc(var(--_offset) + 68px);
  right: var(--_offset);
  width: var(--_width);
  height: min(var(--_height), calc(100vh - 120px));
  border-radius: var(--_radius);
  box-shadow: var(--_shadow);
  border: 1px solid var(--_border);
  animation: confab-in .18s ease-out;
}
.inline {
  height: 100%;
}
.inline .panel {
  height: 100%;
  min-height: 320px;
  border: 1px solid var(--_border);
  border-radius: var(--_radius);
}
.still .panel {
  animation: none;
}
@keyframes confab-in {
  from {
    opacity: 0;
    transform: translateY(12px);
  }
}
.header {
  display: flex;
  align-items: center;
  gap: 8px;
  padding: 12px 12px 12px 16px;
  background: var(--_accent);
  color: var(--_accent-fg);
}
h2 {
  margin: 0;
  font-size: 1.05em;
  flex: 1;
  min-width: 0;
  overflow: hidden;
  text-overflow: ellipsis;
  white-space: nowrap;
}
.presence {
  font-size: .85em;
}
.icon {
  border: 0;
  background: transparent;
  color: inherit;
  width: 40px;
  height: 40px;
  border-radius: 50%;
  display: grid;
  place-items: center;
  cursor: pointer;
}
.icon:hover {
  background: rgb(127 127 127 / .2);
}
.header :focus-visible {
  outline-color: var(--_accent-fg);
}
.inline .close {
  display: none;
}
.banner {
  padding: 6px 16px;
  background: var(--_banner);
  color: var(--_banner-fg);
  font-size: .9em;
}
.banner:empty {
  padding: 0;
}

/* The message list. */
.log {
  flex: 1;
  overflow-y: auto;
  padding: 12px 14px;
  display: flex;
  flex-direction: column;
  gap: 2px;
  overscroll-behavior: contain;
}
.more {
  align-self: center;
  margin-bottom: 8px;
  border: 1px solid var(--_border);
  background: var(--_bg);
  border-radius: 16px;
  padding: 4px 14px;
  cursor: pointer;
  font-size: .85em;
}
.more[aria-disabled] {
  cursor: progress;
  opacity: .7;
}
.empty {
  margin: auto;
  color: var(--_muted);
}
/* min-width: 0 and the author's ellipsis keep a long unbreakable name inside the list. */
.msg {
  display: flex;
  flex-direction: column;
  align-items: flex-start;
  max-width: 85%;
  min-width: 0;
  margin-top: 10px;
}
.msg.cont {
  margin-top: 2px;
}
.msg.own {
  align-self: flex-end;
  align-items: flex-end;
}
.meta {
  font-size: .8em;
  color: var(--_muted);
  margin: 0 6px 2px;
  display: flex;
  gap: 8px;
  max-width: calc(100% - 12px);
}
.author {
  font-weight: 600;
  min-width: 0;
  overflow: hidden;
  text-overflow: ellipsis;
  white-space: nowrap;
}
time {
  flex: none;
}
/* A continuation keeps its name and time for screen readers only. */
.cont .meta {
  position: absolute;
  width: 1px;
  height: 1px;
  overflow: hidden;
  clip-path: inset(50%);
}
.bubble {
  max-width: 100%;
  padding: 8px 12px;
  border-radius: var(--_radius);
  background: var(--_bubble);
  white-space: pre-wrap;
  overflow-wrap: anywhere;
}
/* A very tall message shows its first lines, faded out, until "Show more". */
.bubble.clamped {
  max-height: 16em;
  overflow: hidden;
  mask-image: linear-gradient(#000 70%, transparent);
}
.toggle {
  border: 0;
  background: none;
  color: var(--_link);
  text-decoration: underline;
  cursor: pointer;
  padding: 2px 6px;
  font-size: .85em;
  font-weight: 600;
}
.own .bubble {
  background: var(--_accent);
  color: var(--_accent-fg);
}
.bubble a {
  color: var(--_link);
}
.own .bubble a {
  color: inherit;
}
.own .bubble a:focus-visible {
  outline-color: var(--_accent-fg);
}
.pending .bubble,
.unconfirmed .bubble {
  box-shadow: inset 0 0 0 2px var(--_bg);
}
.state {
  font-size: .8em;
  color: var(--_muted);
  margin: 2px 6px 0;
}
.failed .state {
  color: var(--_danger);
}
.retry {
  border: 0;
  background: none;
  color: inherit;
  text-decoration: underline;
  cursor: pointer;
  padding: 0 0 0 6px;
  font-weight: 600;
}
/* A day separator: the date, centred. */
.day {
  margin: 14px 0 4px;
  text-align: center;
  font-size: .8em;
  font-weight: 600;
  color: var(--_muted);
}
.msg {
  position: relative;
}
.bubble.deleted {
  background: none;
  box-shadow: inset 0 0 0 1px var(--_border);
  color: var(--_muted);
  font-style: italic;
}
.edited,
.seen {
  font-size: .75em;
  color: var(--_muted);
  margin: 1px 6px 0;
}
/* The actions float over the message's outer top corner, shown on hover, on a tap, and while one has focus. */
.tools {
  position: absolute;
  top: -14px;
  inset-inline-start: 4px;
  display: flex;
  border: 1px solid var(--_border);
  border-radius: 8px;
  background: var(--_bg);
  opacity: 0;
  pointer-events: none;
}
.own .tools {
  inset-inline: auto 4px;
}
.msg:hover .tools,
.msg.active .tools,
.tools:focus-within {
  opacity: 1;
  pointer-events: auto;
}
.tool {
  border: 0;
  background: none;
  color: var(--_muted);
  width: 30px;
  height: 28px;
  padding: 0;
  display: grid;
  place-items: center;
  border-radius: 7px;
  cursor: pointer;
}
.tool svg {
  width: 17px;
  height: 17px;
}
.reacts,
.picker {
  display: flex;
  flex-wrap: wrap;
  gap: 4px;
  margin-top: 3px;
}
.chip,
.picker button {
  border: 1px solid var(--_border);
  border-radius: 12px;
  background: var(--_bg);
  padding: 1px 8px;
  font-size: .85em;
  cursor: pointer;
}
.chip[aria-pressed=true] {
  border-color: var(--_focus);
  background: var(--_bubble);
  font-weight: 600;
}
/* The inline editor and the delete confirmation, under the message. */
.editor,
.confirm {
  display: flex;
  flex-wrap: wrap;
  align-items: center;
  gap: 6px;
  margin-top: 4px;
  font-size: .9em;
}
.editor textarea {
  flex-basis: 100%;
  min-width: 240px;
}
.danger {
  background: var(--_danger);
  color: var(--_bg);
}

/*
 * The "new messages" marker has a net height of 0 (-40 + 32 + 8 px), so showing or hiding it
 * never changes the log's size or scroll range.
 */
.jump {
  align-self: center;
  margin: -40px 0 8px;
  height: 32px;
  position: relative;
  border: 0;
  border-radius: 16px;
  padding: 0 14px;
  background: var(--_accent);
  color: var(--_accent-fg);
  box-shadow: var(--_shadow);
  cursor: pointer;
}
.typing {
  min-height: 1.5em;
  padding: 0 16px;
  font-size: .85em;
  color: var(--_muted);
}

/* The composer and the name form. */
.note {
  padding: 4px 16px 0;
  font-size: .85em;
  color: var(--_danger);
}
.note:empty {
  padding: 0;
}
/* A confirmation ("we'll reply to ..."), not a problem. */
.note.ok {
  color: var(--_muted);
}

/* Conversation mode: the team's name, and below it whether anyone is there; the optional name and email asked inline. */
.conv .header {
  flex-wrap: wrap;
  row-gap: 0;
}
.conv .presence {
  order: 3;
  flex-basis: 100%;
  margin-top: -6px;
}
.presence.on::before {
  content: "";
  display: inline-block;
  width: 8px;
  height: 8px;
  margin-right: 6px;
  border-radius: 50%;
  background: #3ddc84;
  box-shadow: 0 0 0 1.5px currentColor;
}
.op .author {
  color: var(--_fg);
  font-weight: 700;
}
.profile {
  flex-direction: column;
  align-items: stretch;
  gap: 6px;
  padding: 10px 12px;
  background: var(--_bubble);
}
.prompt {
  margin: 0;
  font-size: .9em;
}
.profile .row {
  display: flex;
  gap: 8px;
}
.field-error {
  color: var(--_danger);
  font-size: .85em;
}
.field-error:empty {
  display: none;
}
.later {
  border: 0;
  background: transparent;
  color: var(--_muted);
  text-decoration: underline;
  cursor: pointer;
  padding: 9px 6px;
}
form {
  display: flex;
  gap: 8px;
  align-items: flex-end;
  padding: 10px 12px;
  border-top: 1px solid var(--_border);
}
.name-form {
  flex-direction: column;
  align-items: stretch;
  border: 0;
  margin: auto 0;
  padding: 24px;
}
/* 16px inputs: iOS zooms into anything smaller. */
textarea,
input {
  flex: 1;
  font-size: 16px;
  resize: none;
  field-sizing: content;
  max-height: 120px;
  padding: 9px 12px;
  border: 1px solid var(--_muted);
  border-radius: calc(var(--_radius) * .7);
  background: var(--_bg);
}
textarea:disabled {
  cursor: not-allowed;
  opacity: .6;
}
::placeholder {
  color: var(--_muted);
  opacity: 1;
}
.send,
.start {
  border: 0;
  border-radius: calc(var(--_radius) * .7);
  background: var(--_accent);
  color: var(--_accent-fg);
  cursor: pointer;
  padding: 9px 14px;
  font-weight: 600;
}
.send {
  width: 44px;
  height: 44px;
  padding: 0;
  display: grid;
  place-items: center;
}
.send:disabled,
.send[aria-disabled] {
  cursor: not-allowed;
  opacity: .5;
}

/* Phones: the open panel fills the visual viewport (see setViewport), so the keyboard never covers it. */
@media ${PHONE} {
  .launcher-mode .panel {
    inset: var(--confab-vv-top, 0) 0 auto 0;
    width: 100%;
    height: var(--confab-vv-height, 100dvh);
    border-radius: 0;
    border: 0;
  }
  .launcher-mode.open .launcher {
    display: none;
  }
}
@media (prefers-reduced-motion: reduce) {
  * {
    animation: none !important;
    transition: none !important;
    scroll-behavior: auto !important;
  }
}
`

let shared: CSSStyleSheet | undefined

/**
 * Adopts the shared stylesheet into `root` (one parse per page however many widgets there are), and two sheets of
 * this widget's own: the visual viewport ({@link setViewport}) and the accent's text colour ({@link setAccentText}).
 */
export function adoptStyles(root: ShadowRoot): [viewport: CSSStyleSheet, accent: CSSStyleSheet] {
  if (!shared) {
    shared = new CSSStyleSheet()
    shared.replaceSync(CSS)
  }
  const own: [CSSStyleSheet, CSSStyleSheet] = [new CSSStyleSheet(), new CSSStyleSheet()]
  root.adoptedStyleSheets = [shared, ...own]
  return own
}

/** Writes the text colour for the resolved accent (black or white), or clears it (null: the default white). */
export function setAccentText(sheet: CSSStyleSheet, color: string | null): void {
  sheet.replaceSync(color ? `:host{--_auto-fg:${color}}` : '')
}

/**
 * Writes the visual viewport's height and top into `sheet`, so the full-screen panel
 * on phones shrinks above the on-screen keyboard. A stylesheet, not a style attribute,
 * keeps this CSP-clean.
 */
export function setViewport(sheet: CSSStyleSheet, height: number | null, top = 0): void {
  sheet.replaceSync(
    height === null ? '' : `:host{--confab-vv-height:${Math.round(height)}px;--confab-vv-top:${Math.round(top)}px}`,
  )
}
