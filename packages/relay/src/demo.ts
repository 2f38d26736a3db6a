import { createHash } from 'node:crypto'
import { readFile, stat } from 'node:fs/promises'
import { createRequire } from 'node:module'
import type { Plugin, ResponseToolkit } from '@hapi/hapi'

/** The demo page: the widget inline, filling the window, in room `lobby`. Open it twice to chat. */
export const DEMO_PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Confab demo</title>
<style>
  html, body { margin: 0; height: 100%; font-family: system-ui, sans-serif; }
  body { display: flex; flex-direction: column; }
  confab-chat { flex: 1; display: block; min-height: 0; }
</style>
</head>
<body>
<script src="/widget.js" data-room="lobby" data-mode="inline" async></script>
</body>
</html>
`

/** Where the widget's IIFE bundle lives: the installed `@confab/widget` package. */
function widgetPath(): string {
  return createRequire(import.meta.url).resolve('@confab/widget/widget.js')
}

interface Cached {
  mtime: number
  body: Buffer
  etag: string
}

/** Reads the bundle once and again only when the file changes (a rebuild). */
class WidgetFile {
  #cached: Cached | null = null

  async get(): Promise<Cached | null> {
    let path: string
    try {
      path = widgetPath()
    } catch {
      return null // @confab/widget is not installed beside the relay
    }
    const info = await stat(path).catch((error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT') return null
      throw error
    })
    if (info === null) return null
    if (this.#cached?.mtime !== info.mtimeMs) {
      const body = await readFile(path)
      const etag = createHash('sha256').update(body).digest('base64url').slice(0, 27)
      this.#cached = { mtime: info.mtimeMs, body, etag }
    }
    return this.#cached
  }
}

/** Which of the two routes to serve. */
export interface DemoOptions {
  /** `/`: the demo page. */
  page: boolean
  /** `/widget.js`: the widget bundle. */
  widget: boolean
}

/** Routes `/` (the demo page) and `/widget.js` (the widget bundle, with an ETag and a short cache life). */
export const demoRoutes: Plugin<DemoOptions> = {
  name: 'confab-demo',
  register(server, options) {
    if (options.page) {
      server.route({
        method: 'GET',
        path: '/',
        handler: (_request, h: ResponseToolkit) => h.response(DEMO_PAGE).type('text/html; charset=utf-8'),
      })
    }
    if (!options.widget) return
    const widget = new WidgetFile()
    server.route({
      method: 'GET',
      path: '/widget.js',
      handler: async (_request, h: ResponseToolkit) => {
        const file = await widget.get()
        if (file === null) {
          return h.response('widget.js is not built: run npm run build').code(404).type('text/plain')
        }
        return (
          h
            .response(file.body)
            .type('application/javascript; charset=utf-8')
            .etag(file.etag)
            .header('Cache-Control', 'public, max-age=300')
            // Any site may embed the widget, and the script carries no credentials: `*`, never the caller's origin.
            .header('Access-Control-Allow-Origin', '*')
        )
      },
    })
  },
}
