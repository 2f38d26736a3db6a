import { describe, expect, it } from 'vitest'
import { socketUrl } from '../src/url'

describe('socketUrl', () => {
  it('maps http to ws and https to wss', () => {
    expect(socketUrl('http://chat.example.com/ws')).toBe('ws://chat.example.com/ws')
    expect(socketUrl('https://chat.example.com/ws')).toBe('wss://chat.example.com/ws')
  })
  it('uses /ws when the URL has no path', () => {
    expect(socketUrl('http://127.0.0.1:8080')).toBe('ws://127.0.0.1:8080/ws')
    expect(socketUrl('wss://chat.example.com/')).toBe('wss://chat.example.com/ws')
  })
  it('keeps an explicit path, port and query', () => {
    expect(socketUrl('ws://h:9000/chat/socket?x=1')).toBe('ws://h:9000/chat/socket?x=1')
  })
  it('rejects other schemes and non-URLs with a TypeError', () => {
    expect(() => socketUrl('ftp://h/')).toThrow('confab: not a ws(s) or http(s) URL: ftp://h/')
    expect(() => socketUrl('not a url')).toThrow(TypeError)
  })
})
