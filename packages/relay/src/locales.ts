import { readFile } from 'node:fs/promises'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import type { Plugin, ResponseToolkit } from '@hapi/hapi'

/** A locale file name: a primary language subtag and `.json`, so no path can leave the folder. */
const NAME = /^([a-z]{2,3})\.json$/

/** The widget's `dist/locales/`, beside the widget.js it serves; null when @confab/widget is not installed. */
function folder(): string | null {
  try {
    return join(dirname(createRequire(import.meta.url).resolve('@confab/widget/widget.js')), 'locales')
  } catch {
    return null
  }
}

/**
 * `/locales/TAG.json`: the widget's bundled strings, which the relay-served widget.js fetches from its own
 * origin when `lang` asks for one (English is built in). Registered beside `/widget.js`, with its headers.
 */
export const localeRoutes: Plugin<undefined> = {
  name: 'confab-locales',
  register(server) {
    const cache = new Map<string, Buffer>()
    server.route({
      method: 'GET',
      path: '/locales/{file}',
      handler: async (request, h: ResponseToolkit) => {
        const file = NAME.exec(String(request.params.file))?.[0]
        const dir = folder()
        const missing = () => h.response('no such locale').code(404).type('text/plain')
        if (!file || !dir) return missing()
        let body = cache.get(file)
        if (!body) {
          body = await readFile(join(dir, file)).catch(() => undefined)
          if (!body) return missing()
          cache.set(file, body)
        }
        return h
          .response(body)
          .type('application/json; charset=utf-8')
          .header('Cache-Control', 'public, max-age=300')
          .header('Access-Control-Allow-Origin', '*')
      },
    })
  },
}
