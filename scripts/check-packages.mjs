// Checks the three packages as a user receives them: packs the built packages (run `npm run build`
// first), then for each tarball runs publint --strict and Are The Types Wrong (ESM-only profile: the
// packages have no CommonJS build, see docs/packages.md), and checks that LICENSE, README.md and
// CHANGELOG.md ship. With --install it also installs the tarballs into an empty app, as
// `npm install <tarballs>` would for a user, and runs the CLI and a server-side import from there.
import { execFileSync } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'

const root = resolve(import.meta.dirname, '..')
const PACKAGES = ['sdk', 'widget', 'relay']
const REQUIRED = ['LICENSE', 'README.md', 'CHANGELOG.md', 'package.json']
/** Entry points behind a wildcard export, which attw does not expand on its own. */
const EXTRA_ENTRIES = { '@confab/widget': ['--include-entrypoints', './locales/ar.js', './locales/ja.js'] }
const install = process.argv.includes('--install')
const bin = (name) => join(root, 'node_modules/.bin', name)
const run = (command, args, options = {}) =>
  execFileSync(command, args, { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], ...options })

const work = mkdtempSync(join(tmpdir(), 'confab-packages-'))
let failed = false
try {
  // --ignore-scripts: `prepack` would rebuild everything once per package; CI has just built.
  const workspaces = PACKAGES.flatMap((name) => ['-w', `packages/${name}`])
  const packed = JSON.parse(
    run('npm', ['pack', '--json', '--ignore-scripts', '--pack-destination', work, ...workspaces]),
  )
  const tarballs = []
  for (const pack of packed) {
    const tarball = join(work, pack.filename)
    tarballs.push(tarball)
    const files = new Set(pack.files.map((f) => f.path))
    const missing = REQUIRED.filter((f) => !files.has(f))
    console.log(`\n${pack.name}: ${pack.files.length} files, ${pack.size} B packed, ${pack.unpackedSize} B unpacked`)
    if (missing.length > 0) {
      console.error(`${pack.name}: the tarball lacks ${missing.join(', ')}`)
      failed = true
    }
    for (const [tool, args] of [
      ['publint', ['run', '--strict', tarball]],
      ['attw', [tarball, '--profile', 'esm-only', '--format', 'ascii', ...(EXTRA_ENTRIES[pack.name] ?? [])]],
    ]) {
      try {
        run(bin(tool), args, { stdio: 'inherit' })
      } catch {
        console.error(`${pack.name}: ${tool} failed`)
        failed = true
      }
    }
  }

  if (install) {
    const app = join(work, 'app')
    run('mkdir', ['-p', app])
    writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'app', private: true, type: 'module' }))
    // One command, as the README says: npm 7+ installs the @hapi/hapi peer on its own.
    run('npm', ['install', '--no-audit', '--no-fund', ...tarballs], { cwd: app, stdio: 'inherit' })
    const help = run(join(app, 'node_modules/.bin/confab-relay'), ['--help'], { cwd: app })
    if (!help.includes('confab-relay')) throw new Error(`confab-relay --help printed:\n${help}`)
    const version = run(join(app, 'node_modules/.bin/confab-relay'), ['--version'], { cwd: app }).trim()
    console.log(`installed: confab-relay --version prints ${version}`)
    const ssr = `const m = await import('@confab/widget'); const r = await import('@confab/relay');
      console.log(typeof m.ConfabChat, typeof r.confab)`
    const imported = run(process.execPath, ['--input-type=module', '-e', ssr], { cwd: app }).trim()
    if (imported !== 'function object') throw new Error(`server-side import printed ${imported}`)
    const loaded = run(
      process.execPath,
      [
        '-e',
        "import('@confab/relay').then(() => console.log(Object.keys(require.cache).filter((k) => k.includes('/ioredis/')).length))",
      ],
      { cwd: app },
    ).trim()
    if (loaded !== '0') throw new Error(`import('@confab/relay') loaded ${loaded} ioredis modules`)
    console.log('installed: @confab/widget imports on a server; @confab/relay imports without loading ioredis')
  }
} finally {
  rmSync(work, { recursive: true, force: true })
}
if (failed) process.exit(1)
console.log('\npackages: all checks passed')
