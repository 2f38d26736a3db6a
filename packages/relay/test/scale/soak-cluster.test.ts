// The cluster soak (soak-cluster.ts): the short profile (about 75 s of phases) in `npm test`;
// `npm run soak -- --minutes=30` runs the same file for longer (SOAK_MINUTES).
import { writeFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { redisServerMissing } from '../storage/redis-server'
import { profileFromEnv, runSoak } from './soak-cluster'
import { formatReport } from './soak-report'

const missing = redisServerMissing()
const profile = profileFromEnv(process.env, (line) => console.log(line))
/** Memory a relay may gain between the end of its first phase and the end of any later one. */
const HEAP_GROWTH = 32 * 1024 * 1024 // 32 MB
const RSS_GROWTH = 64 * 1024 * 1024 // 64 MB
/** Setup, recovery waits and the drain, on top of the phases. */
const OVERHEAD = 180_000 // ms

describe.skipIf(missing !== null)('cluster soak: churn, a reconnect storm, node and Redis kills', () => {
  it(
    `keeps every acked message, once, in order, with bounded memory, for ${profile.seconds} s`,
    async () => {
      const result = await runSoak(profile)
      const report = formatReport(result)
      console.log(`\n${report}\n`)
      if (process.env.SOAK_REPORT) writeFileSync(process.env.SOAK_REPORT, `${report}\n\n${JSON.stringify(result)}\n`)

      // Every send settled (acked or refused): the relays came back after every kill.
      expect(
        result.unsettled,
        `${report}\n${Object.entries(result.tails)
          .map(([n, t]) => `--- ${n}:\n${t}`)
          .join('\n')}`,
      ).toBe(0)
      // Delivery: every listener, every room.
      const bad = result.verdicts.filter(
        (v) => v.lost + v.duplicates + v.outOfOrder + v.gaps + v.mismatches + v.resets > 0,
      )
      expect(bad, report).toEqual([])
      expect(result.complete, result.behind.slice(0, 10).join('\n')).toBe(true)
      expect(result.ackMismatches).toBe(0)
      expect(result.rejected).toEqual({})
      expect(result.wire.map(({ gaps, unrecovered }) => ({ gaps, unrecovered }))).toEqual(
        result.wire.map(() => ({ gaps: 0, unrecovered: 0 })),
      )
      // Every phase moved messages (the failover one too, once Redis was back).
      for (const phase of result.phases.filter((p) => p.phase !== 'drain')) {
        expect(phase.acked, `${phase.phase} of cycle ${phase.cycle}`).toBeGreaterThan(0)
      }

      // Logs: every error-level line says why.
      expect(result.errors.filter((e) => !e.caused)).toEqual([])

      // Memory: node two lives the whole soak (node one is the one killed); its level at the end of
      // each phase stays within a bound of where it was after the first.
      const two = result.phases.map((p) => p.nodes.two).filter((s) => s !== undefined)
      const [first] = two
      expect(first).toBeDefined()
      for (const sample of two) {
        expect(sample.runs, 'node two was never restarted').toBe(1)
        expect(sample.heap, report).toBeLessThan((first?.heap ?? 0) + HEAP_GROWTH)
        expect(sample.rss, report).toBeLessThan((first?.rss ?? 0) + RSS_GROWTH)
      }
    },
    profile.seconds * 1000 + OVERHEAD,
  )
})
