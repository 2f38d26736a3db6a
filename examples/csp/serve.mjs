#!/usr/bin/env node
// Serves the strict-CSP example with its policy as a real response header.
//
//   RELAY=http://localhost:8080 node examples/csp/serve.mjs     # http://localhost:8082/
import { resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { serve } from '../embed/serve.mjs'

/**
 * The policy: scripts only from the relay, sockets only to it, styles only from this origin,
 * and no 'unsafe-inline' anywhere. connect-src names the ws(s): origin because Chromium
 * does not let an http(s): source cover a WebSocket.
 */
export function policy(relay) {
  const origin = new URL(relay).origin
  return `default-src 'self'; script-src ${origin}; connect-src ${origin.replace(/^http/, 'ws')}; style-src 'self'`
}

/** Serves this folder with the policy for `relay` on `port` (0 picks a free one). */
export function serveCsp({ relay = 'http://localhost:8080', port = 8082 } = {}) {
  const dir = fileURLToPath(new URL('.', import.meta.url))
  return serve({ dir, port, relay, headers: { 'content-security-policy': policy(relay) } })
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const relay = process.env.RELAY ?? 'http://localhost:8080'
  const server = await serveCsp({ relay, port: Number(process.env.PORT ?? 8082) })
  console.log(`Strict-CSP page on http://localhost:${server.address().port}/ (relay ${relay})`)
  console.log(`Content-Security-Policy: ${policy(relay)}`)
}
