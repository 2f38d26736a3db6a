// Plain-text tables for the console and Markdown tables for docs/benchmarks.md.

function cell(value, digits) {
  if (value === null || value === undefined) return '-'
  if (typeof value !== 'number') return String(value)
  if (Number.isInteger(value) && Math.abs(value) >= 100) return value.toLocaleString('en-US')
  if (Math.abs(value) >= 1000) return Math.round(value).toLocaleString('en-US')
  return value.toFixed(digits)
}

/** A table as Markdown: `columns` are `{ key, label, digits? }`, `rows` plain objects. */
export function markdown(columns, rows) {
  const head = `| ${columns.map((c) => c.label).join(' | ')} |`
  const rule = `| ${columns.map(() => '---').join(' | ')} |`
  const body = rows.map((r) => `| ${columns.map((c) => cell(r[c.key], c.digits ?? 1)).join(' | ')} |`)
  return [head, rule, ...body].join('\n')
}

/** Prints a titled table to the console (Markdown, so it can be pasted into docs). */
export function print(title, columns, rows) {
  console.log(`\n### ${title}\n\n${markdown(columns, rows)}\n`)
}
