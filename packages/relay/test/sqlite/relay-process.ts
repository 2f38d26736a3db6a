// A relay process on a SQLite file, for the restart tests: what the CLI will
// run once it is wired to the SQLite backend. Prints `listening PORT` when up;
// a file it cannot use prints the backend's one line on stderr and exits 2,
// as the CLI does with bad configuration.
//
//   node relay-process.mjs FILE
import { createRelay } from '../../src/relay'
import { createSqliteBackend } from '../../src/sqlite'

const file = process.argv[2]
if (!file) {
  console.error('usage: relay-process FILE')
  process.exit(2)
}
let backend: Awaited<ReturnType<typeof createSqliteBackend>>
try {
  backend = await createSqliteBackend(file, { historyLimit: 10_000, idempotencyWindow: 600_000 })
} catch (error) {
  console.error((error as Error).message)
  process.exit(2)
}
const { store, broker, presence, resumeSecret } = backend
const relay = await createRelay({ port: 0, host: '127.0.0.1', store, broker, presence, resumeSecret, logger: false })
await relay.start()
process.once('SIGTERM', async () => {
  await relay.stop()
  await backend.close()
  process.exit(0)
})
console.log(`listening ${relay.server.info.port}`)
