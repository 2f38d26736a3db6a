import { readdirSync, readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { resolveConfig } from '../src/config'
import { announcedLimits } from '../src/plugin'
import { SETTINGS, shownDefault } from '../src/settings'

/** The rows of the settings table in docs/relay.md: option, flag, variable, default. */
function documentedRows(): string[][] {
  const text = readFileSync(new URL('../../../docs/relay.md', import.meta.url), 'utf8')
  const section = text.slice(text.indexOf('## Configuration reference'), text.indexOf('The limits are explained'))
  return section
    .split('\n')
    .filter((line) => line.startsWith('| `'))
    .map((line) =>
      line
        .split(/(?<!\\)\|/)
        .slice(1, 5)
        .map((cell) => cell.trim().replace(/^`|`$/g, '')),
    )
}

describe('the table of settings', () => {
  it('is what docs/relay.md lists, row for row: option, flag, variable and default', () => {
    const declared = SETTINGS.map((s) => [s.path, s.flag ?? '', s.env ?? '', shownDefault(s)])
    expect(documentedRows()).toEqual(declared)
  })

  it('declares each flag and each variable once', () => {
    const flags = SETTINGS.flatMap((s) => (s.flag ? [s.flag] : []))
    const envs = SETTINGS.flatMap((s) => (s.env ? [s.env] : []))
    expect(new Set(flags).size).toBe(flags.length)
    expect(new Set(envs).size).toBe(envs.length)
  })

  it('gives every integer a range and every default its unit where it has one', () => {
    for (const s of SETTINGS.filter((x) => x.kind === 'integer')) {
      expect(s.min, s.path).toBeDefined()
      expect(s.max, s.path).toBeDefined()
    }
  })

  it('announces in welcome the rows marked to be announced, as configured', () => {
    const config = resolveConfig({ limits: { maxText: 500, frameBurst: 7 }, history: { limit: 9 } })
    expect(announcedLimits(config)).toEqual({
      maxPayload: 65_536,
      maxText: 500,
      maxRooms: 128,
      publishRate: 10,
      publishBurst: 20,
      frameRate: 20,
      frameBurst: 7,
      historyLimit: 9,
    })
  })
})

describe('the user docs', () => {
  it('cite only what users have: docs/, never the internal DESIGN.md', () => {
    const docs = new URL('../../../docs/', import.meta.url)
    for (const name of readdirSync(docs).filter((n) => n.endsWith('.md'))) {
      expect(readFileSync(new URL(name, docs), 'utf8'), name).not.toContain('DESIGN.md')
    }
  })

  it('say the command takes --host (HOST) as createRelay does', () => {
    const host = documentedRows().find((row) => row[0] === 'host')
    expect(host).toEqual(['host', '--host', 'HOST', '0.0.0.0'])
    expect(readFileSync(new URL('../../../docs/relay.md', import.meta.url), 'utf8')).not.toContain('createRelay only')
  })
})
