// Types `server.plugins.confab` for every app that imports @confab/relay: hapi declares
// PluginProperties empty so each plugin adds its own exposed API to it.
import type { ConfabApi } from './plugin'

declare module '@hapi/hapi' {
  interface PluginProperties {
    /** The relay's API, set by `server.register({ plugin: confab })` (see docs/relay.md). */
    confab: ConfabApi
  }
}
