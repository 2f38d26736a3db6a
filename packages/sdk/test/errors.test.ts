import { describe, expect, it } from 'vitest'
import { ConfabError } from '../src/errors'

describe('ConfabError', () => {
  it('is an Error with a stable code, a name and an optional retryAfter', () => {
    const e = new ConfabError('rate_limited', 'slow down', 1_500)
    expect(e).toBeInstanceOf(Error)
    expect(e.name).toBe('ConfabError')
    expect(e.code).toBe('rate_limited')
    expect(e.message).toBe('slow down')
    expect(e.retryAfter).toBe(1_500)
    expect(new ConfabError('closed', 'bye').retryAfter).toBeUndefined()
  })
})
