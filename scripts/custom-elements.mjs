// Writes packages/widget/dist/custom-elements.json (the Custom Elements Manifest that editors, Storybook
// and framework wrappers read) from the two places element.ts declares the element's surface: the
// ATTRIBUTES table and the class's `@fires` tags. Run by `npm run build`; no analyzer to install.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { dirname, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..')
const source = readFileSync(resolve(root, 'packages/widget/src/element.ts'), 'utf8')
const out = resolve(root, 'packages/widget/dist/custom-elements.json')

/** The text between `const ATTRIBUTES = {` and its closing `} satisfies`. */
function table() {
  const start = source.indexOf('const ATTRIBUTES = {')
  const end = source.indexOf('} satisfies', start)
  if (start === -1 || end === -1) throw new Error('custom-elements: ATTRIBUTES table not found in element.ts')
  return source.slice(start, end)
}

/** `text()` is any string; `oneOf(['a', 'b'], 'c')` is that union with 'c' as default. */
function typeOf(read) {
  if (read === undefined) return { type: 'string' }
  const text = /^text\((?:'([^']*)')?\)$/.exec(read)
  if (text) return { type: 'string', ...(text[1] ? { default: `'${text[1]}'` } : {}) }
  const one = /^oneOf\(\[([^\]]*)\],\s*'([^']*)'\)$/.exec(read)
  if (one) {
    const values = [...one[1].matchAll(/'([^']*)'/g)].map((m) => m[1])
    return { type: [...values, one[2]].map((v) => `'${v}'`).join(' | '), default: `'${one[2]}'` }
  }
  throw new Error(`custom-elements: unknown reader ${read}`)
}

const attributes = []
for (const match of table().matchAll(/^\s+(\w+): \{ (?:read: (.+?), )?on: '(\w+)' \},?$/gm)) {
  const [, name, read] = match
  if (name === 'open') {
    attributes.push({
      name,
      type: { text: 'boolean' },
      fieldName: 'opened',
      description: 'The launcher panel is open.',
    })
    continue
  }
  const { type, default: value } = typeOf(read)
  attributes.push({ name, type: { text: type }, ...(value ? { default: value } : {}), fieldName: name })
}
if (attributes.length === 0) throw new Error('custom-elements: no attributes parsed from element.ts')

const events = [...source.matchAll(/^ \* @fires (confab-[\w-]+) - (.+)$/gm)].map(([, name, description]) => ({
  name,
  type: { text: 'CustomEvent' },
  description,
}))

const manifest = {
  schemaVersion: '2.1.0',
  readme: '',
  modules: [
    {
      kind: 'javascript-module',
      path: 'dist/element.js',
      declarations: [
        {
          kind: 'class',
          name: 'ConfabChat',
          tagName: 'confab-chat',
          customElement: true,
          description: 'A chat room in a Web Component.',
          superclass: { name: 'HTMLElement', package: 'global:' },
          attributes,
          members: [
            ...attributes.map((a) => ({
              kind: 'field',
              name: a.fieldName,
              type: a.type,
              ...(a.default ? { default: a.default } : {}),
            })),
            {
              kind: 'field',
              name: 'strings',
              type: { text: 'Partial<Strings>' },
              description: 'Replaces some UI strings.',
            },
            { kind: 'field', name: 'client', type: { text: 'ChatClient' }, description: 'A shared SDK client.' },
          ],
          events,
        },
      ],
      exports: [{ kind: 'js', name: 'ConfabChat', declaration: { name: 'ConfabChat', module: 'dist/element.js' } }],
    },
    {
      kind: 'javascript-module',
      path: 'dist/index.js',
      declarations: [],
      exports: [
        {
          kind: 'custom-element-definition',
          name: 'confab-chat',
          declaration: { name: 'ConfabChat', module: 'dist/element.js' },
        },
      ],
    },
  ],
}
mkdirSync(dirname(out), { recursive: true })
writeFileSync(out, `${JSON.stringify(manifest, null, 2)}\n`)
