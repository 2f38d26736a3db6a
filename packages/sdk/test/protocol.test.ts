import { describe, expect, it } from 'vitest'
import { CLOSE, closeAction, ERROR_CODES } from '../src/protocol'

describe('closeAction', () => {
  it.each([
    [1000, 'stop'],
    [1008, 'stop'],
    [1009, 'stop'],
    [4000, 'stop'],
    [4001, 'stop'],
    [4003, 'stop'],
    [4009, 'stop'],
    [4099, 'stop'],
    [1012, 'soon'],
    [1013, 'soon'],
    [4100, 'backoff'],
    [4101, 'backoff'],
    [4102, 'backoff'],
    [4199, 'backoff'],
    [4200, 'now'],
    [4299, 'now'],
    [1001, 'backoff'],
    [1006, 'backoff'],
    [1011, 'backoff'],
    [3000, 'backoff'],
    [4300, 'backoff'],
  ])('close code %i means %s', (code, action) => {
    expect(closeAction(code)).toBe(action)
  })

  it('names every code of DESIGN.md section 3 in CLOSE', () => {
    expect(Object.values(CLOSE).sort()).toEqual([
      1000, 1008, 1009, 1012, 1013, 4001, 4003, 4009, 4100, 4101, 4102, 4200,
    ])
  })

  it('lists the ten stable error codes', () => {
    expect(ERROR_CODES).toHaveLength(10)
  })
})
