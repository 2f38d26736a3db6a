#!/usr/bin/env node
// A tiny static file server for the widget examples: another port is another origin,
// so a page served here embeds the relay's widget cross-origin, as a real site would.
//
//   node examples/embed/serve.mjs [folder] [--port 8081]
//
// Serves `folder` (default: this one) on http://localhost:PORT (default 8081, or $PORT).
// RELAY=https://chat.example.com points the pages at another relay than http://localhost:8080.
import { readFile } from 'node:fs/promises'
import { createServer } from 'node:http'
import { extname, join, normalize, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'

const TYPES = { '.html': 'text/html; charset=utf-8', '.css': 'text/css; charset=utf-8', '.js': 'text/javascript' }

/**
 * Serves the files under `dir` on `port` (0 picks a free one) with extra response `headers`.
 * `relay` rewrites the examples' `http://localhost:8080` in HTML to another relay address.
 * Resolves with the listening server; only 127.0.0.1/localhost, never a public interface.
 */
export function serve({ dir, port = 8081, host = '127.0.0.1', headers = {}, relay }) {
  const root = resolve(dir)
  const server = createServer(async (req, res) => {
    const path = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname)
    const file = normalize(join(root, path.endsWith('/') ? `${path}index.html` : path))
    if (!file.startsWith(root)) return void res.writeHead(403).end()
    try {
      let body = await readFile(file)
      if (relay && file.endsWith('.html')) body = body.toString().replaceAll('http://localhost:8080', relay)
      res.writeHead(200, { 'content-type': TYPES[extname(file)] ?? 'application/octet-stream', ...headers }).end(body)
    } catch (error) {
      if (error.code !== 'ENOENT' && error.code !== 'EISDIR') throw error
      res.writeHead(404).end('not found')
    }
  })
  return new Promise((done) => server.listen(port, host, () => done(server)))
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const args = process.argv.slice(2)
  const at = args.indexOf('--port')
  const port = Number(at >= 0 ? args[at + 1] : (process.env.PORT ?? 8081))
  const dir =
    args.find((a, i) => !a.startsWith('--') && args[i - 1] !== '--port') ?? fileURLToPath(new URL('.', import.meta.url))
  const server = await serve({ dir, port, relay: process.env.RELAY })
  console.log(`Serving ${resolve(dir)} on http://localhost:${server.address().port}/`)
}
