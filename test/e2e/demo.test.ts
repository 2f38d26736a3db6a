// The foundation's end-to-end check: `npm start`'s demo page, opened twice, is a working chat.
import { existsSync } from 'node:fs'
import { resolve } from 'node:path'
import { createRelay, type Relay } from '@confab/relay'
import type { Browser, Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ARTIFACTS, launchChromium } from '../support/browser'
import { chromiumMissing } from '../support/env'

const skip = chromiumMissing()
const BUNDLE = resolve(__dirname, '../../packages/widget/dist/widget.js')

describe.skipIf(skip)('demo page', () => {
  let browser: Browser
  let relay: Relay

  beforeAll(async () => {
    if (!existsSync(BUNDLE)) throw new Error(`${BUNDLE} is missing: run \`npm run build\` first`)
    relay = await createRelay({ port: 0, host: '127.0.0.1', logger: false, shutdownTimeout: 1000 })
    await relay.start()
    browser = await launchChromium()
  })

  afterAll(async () => {
    await browser?.close()
    await relay?.stop()
  })

  /** Opens the demo page in a fresh browser context and enters `name` when the widget asks. */
  async function join(name: string): Promise<Page> {
    const context = await browser.newContext()
    context.setDefaultTimeout(10_000)
    const page = await context.newPage()
    await page.goto(relay.url)
    await page.getByLabel('What should we call you?').fill(name)
    await page.getByLabel('What should we call you?').press('Enter')
    return page
  }

  it('two windows chat: text typed in one appears in the other', async () => {
    const ada = await join('Ada')
    const bo = await join('Bo')
    await ada.getByText('2 online').waitFor()

    await ada.getByLabel('Message', { exact: true }).fill('Hello from the demo page')
    await ada.getByLabel('Message', { exact: true }).press('Enter')

    const received = bo.getByRole('log').getByText('Hello from the demo page')
    await received.waitFor()
    expect(await bo.getByRole('log').getByText('Ada', { exact: true }).count()).toBe(1)

    await bo.getByLabel('Message', { exact: true }).fill('Hi Ada!')
    await bo.getByRole('button', { name: 'Send' }).click()
    await ada.getByRole('log').getByText('Hi Ada!').waitFor()
    await ada.screenshot({ path: `${ARTIFACTS}demo.png` })
  })
})
