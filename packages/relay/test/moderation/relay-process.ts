// A relay process on a SQLite file with webhooks on, for the restart test.
// Prints `listening PORT` when up.
//
//   node relay-process.mjs FILE WEBHOOK_URL WEBHOOK_SECRET
import { createRelay } from '../../src/relay'
import { createSqliteBackend } from '../../src/sqlite'

const [file, url, secret] = process.argv.slice(2)
if (!file || !url || !secret) {
  console.error('usage: relay-process FILE WEBHOOK_URL WEBHOOK_SECRET')
  process.exit(2)
}
const backend = await createSqliteBackend(file, { historyLimit: 1000, idempotencyWindow: 600_000 })
const { store, broker, presence, resumeSecret } = backend
const relay = await createRelay({
  port: 0,
  host: '127.0.0.1',
  store,
  broker,
  presence,
  resumeSecret,
  logger: false,
  webhook: { url, secret },
})
await relay.start()
console.log(`listening ${relay.server.info.port}`)
