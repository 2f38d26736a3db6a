// The inbox's stylesheet: the widget's palettes and custom properties, adopted (never parsed from markup), so the
// inbox page works under a strict CSP like the widget. Minified by the build like ../styles.ts.
import { DARK, LIGHT } from '../styles.js'

const CSS = /* css */ `
:host {
  all: initial;
  ${LIGHT}
  --_accent: var(--confab-accent, #2456d3);
  --_accent-fg: var(--confab-accent-fg, #fff);
  --_font: var(--confab-font, system-ui, -apple-system, "Segoe UI", Roboto, sans-serif);
  --_radius: var(--confab-radius, 14px);
  --_side: var(--confab-inbox-side, 360px);
  --_online: var(--confab-online, #1e8e3e);
  display: block;
  height: 100%;
  color-scheme: light;
}
/* The relay's /inbox page: the whole window, with no page stylesheet (its CSP allows none inline). */
:host([fullscreen]) {
  position: fixed;
  inset: 0;
}
:host([theme=dark]) {
  ${DARK}
  --_online: var(--confab-online, #6dd58c);
}
@media (prefers-color-scheme: dark) {
  :host(:not([theme=light])) {
    ${DARK}
    --_online: var(--confab-online, #6dd58c);
  }
}
[hidden] {
  display: none !important;
}
* {
  box-sizing: border-box;
}
.root {
  font: 15px/1.4 var(--_font);
  color: var(--_fg);
  background: var(--_bg);
  height: 100%;
  display: grid;
  grid-template-columns: var(--_side) 1fr;
  position: relative;
}
button,
textarea,
input {
  font: inherit;
  color: inherit;
}
:focus-visible {
  outline: 3px solid var(--_focus);
  outline-offset: -3px;
}
.vh {
  position: absolute !important;
  width: 1px;
  height: 1px;
  overflow: hidden;
  clip-path: inset(50%);
  white-space: nowrap;
}

/* The list of conversations. */
.side {
  border-right: 1px solid var(--_border);
  display: flex;
  flex-direction: column;
  min-height: 0;
  overflow: auto;
}
.head {
  padding: 14px 14px 10px;
  border-bottom: 1px solid var(--_border);
  position: sticky;
  top: 0;
  background: var(--_bg);
}
.title {
  font-size: 20px;
  margin: 0 0 10px;
}
.filters {
  display: flex;
  gap: 6px;
  flex-wrap: wrap;
}
.filter {
  border: 1px solid var(--_border);
  background: transparent;
  border-radius: 999px;
  padding: 4px 11px;
  font-size: 14px;
  cursor: pointer;
}
.filter[aria-pressed=true] {
  background: var(--_accent);
  border-color: var(--_accent);
  color: var(--_accent-fg);
}
.list {
  list-style: none;
  margin: 0;
  padding: 0;
}
.row {
  display: block;
  width: 100%;
  text-align: left;
  border: 0;
  border-bottom: 1px solid var(--_border);
  background: transparent;
  padding: 10px 14px;
  cursor: pointer;
}
.row:hover {
  background: var(--_bubble);
}
.row[aria-current] {
  background: var(--_bubble);
  box-shadow: inset 4px 0 var(--_accent);
}
.line {
  display: flex;
  align-items: center;
  gap: 8px;
  min-width: 0;
}
.name {
  font-weight: 600;
  flex: 1;
  overflow: hidden;
  text-overflow: ellipsis;
  white-space: nowrap;
}
.age,
.meta,
.time,
.empty,
.pick,
.typing {
  color: var(--_muted);
  font-size: 13px;
}
.preview {
  flex: 1;
  color: var(--_muted);
  overflow: hidden;
  text-overflow: ellipsis;
  white-space: nowrap;
}
.unread .preview {
  color: var(--_fg);
  font-weight: 600;
}
.dot {
  width: 9px;
  height: 9px;
  border-radius: 50%;
  border: 1.5px solid var(--_muted);
  flex: none;
}
.dot.on {
  background: var(--_online);
  border-color: var(--_online);
}
.count {
  background: var(--_accent);
  color: var(--_accent-fg);
  border-radius: 999px;
  min-width: 20px;
  padding: 0 6px;
  font-size: 12px;
  font-weight: 700;
  text-align: center;
}
.empty,
.pick {
  padding: 24px 14px;
  margin: 0;
  text-align: center;
}
.more {
  margin: 10px auto;
  border: 1px solid var(--_border);
  background: transparent;
  border-radius: 999px;
  padding: 4px 12px;
  cursor: pointer;
}

/* The open conversation. */
.main {
  display: flex;
  flex-direction: column;
  min-height: 0;
  min-width: 0;
}
.banner:not(:empty) {
  background: var(--_banner);
  color: var(--_banner-fg);
  padding: 8px 14px;
}
.pane {
  display: flex;
  flex-direction: column;
  flex: 1;
  min-height: 0;
}
.bar {
  display: flex;
  align-items: center;
  gap: 8px;
  padding: 10px 14px;
  border-bottom: 1px solid var(--_border);
  background: var(--_accent);
  color: var(--_accent-fg);
}
.bar :focus-visible {
  outline-color: var(--_accent-fg);
}
.who-box {
  flex: 1;
  min-width: 0;
}
.who {
  margin: 0;
  font-size: 17px;
  overflow: hidden;
  text-overflow: ellipsis;
  white-space: nowrap;
}
.bar .meta {
  margin: 0;
  color: inherit;
  opacity: .92;
  overflow-wrap: anywhere;
}
.bar a {
  color: inherit;
}
.act {
  border: 1.5px solid currentColor;
  background: transparent;
  color: inherit;
  border-radius: 999px;
  padding: 4px 12px;
  cursor: pointer;
  white-space: nowrap;
}
.icon {
  border: 0;
  background: transparent;
  color: inherit;
  width: 36px;
  height: 36px;
  border-radius: 50%;
  display: none;
  place-items: center;
  cursor: pointer;
  padding: 0;
}
svg {
  width: 22px;
  height: 22px;
  fill: none;
  stroke: currentColor;
  stroke-width: 2;
  stroke-linecap: round;
  stroke-linejoin: round;
}
.log {
  flex: 1;
  overflow-y: auto;
  padding: 14px;
  display: flex;
  flex-direction: column;
  gap: 10px;
}
.msg {
  max-width: 80%;
  align-self: flex-start;
}
.msg.own,
.msg.op {
  align-self: flex-end;
}
.from {
  font-size: 13px;
  font-weight: 600;
  margin: 0 4px 2px;
}
.bubble {
  background: var(--_bubble);
  border-radius: var(--_radius);
  padding: 8px 12px;
  white-space: pre-wrap;
  overflow-wrap: anywhere;
}
.op .bubble {
  background: var(--_accent);
  color: var(--_accent-fg);
}
.op .bubble a {
  color: inherit;
}
.bubble.deleted {
  background: none;
  color: var(--_muted);
  font-style: italic;
  box-shadow: inset 0 0 0 1px var(--_border);
}
.extra {
  display: flex;
  flex-wrap: wrap;
  align-items: center;
  gap: 6px;
  margin: 3px 4px 0;
  font-size: 13px;
  color: var(--_muted);
}
.chip {
  border: 1px solid var(--_border);
  border-radius: 12px;
  padding: 0 7px;
  color: var(--_fg);
}
.link {
  border: 0;
  background: none;
  color: var(--_muted);
  text-decoration: underline;
  cursor: pointer;
  padding: 0 2px;
  font: inherit;
}
.confirm {
  display: inline-flex;
  align-items: center;
  gap: 6px;
  color: var(--_fg);
}
.danger {
  border: 0;
  border-radius: 8px;
  background: var(--_danger);
  color: var(--_bg);
  padding: 3px 10px;
  font: inherit;
  font-weight: 600;
  cursor: pointer;
}
.bubble a {
  color: var(--_link);
}
.typing {
  min-height: 20px;
  padding: 0 14px;
}
.composer {
  display: flex;
  gap: 8px;
  padding: 10px 14px 14px;
  border-top: 1px solid var(--_border);
}
textarea,
input {
  flex: 1;
  resize: none;
  border: 1px solid var(--_border);
  border-radius: 10px;
  padding: 8px 10px;
  background: var(--_bg);
}
.send {
  border: 0;
  border-radius: 50%;
  width: 44px;
  height: 44px;
  background: var(--_accent);
  color: var(--_accent-fg);
  display: grid;
  place-items: center;
  cursor: pointer;
  align-self: end;
}

/* Sign-in: the name, asked once. */
.gate {
  position: absolute;
  inset: 0;
  background: var(--_bg);
  display: grid;
  place-items: center;
  padding: 20px;
}
.gate-form {
  display: flex;
  flex-direction: column;
  gap: 10px;
  width: min(360px, 100%);
}
.gate-text {
  max-width: 420px;
  text-align: center;
}
.start {
  border: 0;
  border-radius: 10px;
  padding: 10px;
  background: var(--_accent);
  color: var(--_accent-fg);
  font-weight: 600;
  cursor: pointer;
}

/* A phone: the list, then the conversation, as two screens. */
@media (max-width: 719.98px) {
  .root {
    grid-template-columns: 1fr;
  }
  .side {
    border-right: 0;
  }
  .main,
  .reading .side {
    display: none;
  }
  .reading .main {
    display: flex;
  }
  .icon {
    display: grid;
  }
  .bar {
    flex-wrap: wrap;
  }
  .who-box {
    flex-basis: calc(100% - 50px);
  }
  .msg {
    max-width: 90%;
  }
}
@media (prefers-reduced-motion: reduce) {
  * {
    transition: none !important;
  }
}
`

let shared: CSSStyleSheet | undefined

/** Adopts the inbox stylesheet (parsed once per page). */
export function adoptInboxStyles(root: ShadowRoot): void {
  if (!shared) {
    shared = new CSSStyleSheet()
    shared.replaceSync(CSS)
  }
  root.adoptedStyleSheets = [shared]
}
