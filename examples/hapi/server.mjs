// A hapi app of its own that mounts the Confab relay as a plugin.
// Run from the repository root after `npm install`: node examples/hapi/server.mjs

import { confab } from '@confab/relay'
import Hapi from '@hapi/hapi'

// Stand-in for your session store: the widget's token is looked up here.
const sessions = new Map([
  ['alice-session', { id: 'u-alice', name: 'Alice', rooms: ['support', 'team-*'] }],
  ['bob-session', { id: 'u-bob', name: 'Bob', rooms: ['support'] }],
])

const page = (token) => `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>My app with Confab</title>
<style>body { font-family: system-ui, sans-serif; margin: 2rem; } confab-chat { display: block; height: 60vh; }</style>
</head>
<body>
<h1>My app</h1>
<p>Signed in as ${token === 'alice-session' ? 'Alice' : 'Bob'}. Open <a href="/?as=alice">/?as=alice</a> and <a href="/?as=bob">/?as=bob</a> side by side.</p>
<confab-chat room="support" token="${token}" mode="inline"></confab-chat>
<script src="/widget.js" async></script>
</body>
</html>`

const server = Hapi.server({ port: Number(process.env.PORT ?? 3000), host: process.env.HOST ?? 'localhost' })

server.route({
  method: 'GET',
  path: '/',
  handler: (request, h) => {
    const token = request.query.as === 'bob' ? 'bob-session' : 'alice-session'
    return h.response(page(token)).type('text/html')
  },
})

await server.register({
  plugin: confab,
  options: {
    demo: false, // `/` belongs to the app
    auth: {
      verify: (token) => {
        const user = sessions.get(token)
        if (!user) throw new Error('unknown session')
        return user
      },
    },
    logger: { level: process.env.LOG_LEVEL ?? 'info' },
  },
})

await server.start()
console.log(`App with Confab: ${server.info.uri}/  (WebSocket ${server.info.uri.replace('http', 'ws')}/ws)`)

for (const signal of ['SIGINT', 'SIGTERM']) {
  process.once(signal, async () => {
    await server.stop({ timeout: 10_000 }) // the plugin closes every socket with 1012 first
    process.exit(0)
  })
}
