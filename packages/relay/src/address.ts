import type { IncomingMessage } from 'node:http'
import { BlockList, isIP } from 'node:net'

/** Works out a request's client address, believing `X-Forwarded-For` only from trusted proxies. */
export class ClientAddress {
  readonly #trusted: BlockList | null

  /** `trusted`: proxy IP addresses or CIDR ranges. */
  constructor(trusted: string[]) {
    if (trusted.length === 0) {
      this.#trusted = null
      return
    }
    const list = new BlockList()
    for (const entry of trusted) {
      const [address = '', bits] = entry.split('/')
      const family = isIP(address) === 6 ? 'ipv6' : 'ipv4'
      if (bits === undefined) list.addAddress(address, family)
      else list.addSubnet(address, Number(bits), family)
    }
    this.#trusted = list
  }

  /** True when the address is one of the trusted proxies. */
  trusts(address: string | undefined): boolean {
    return address !== undefined && this.#isTrusted(address)
  }

  #isTrusted(address: string): boolean {
    if (!this.#trusted) return false
    const family = isIP(address)
    if (family === 0) return false
    const plain = address.startsWith('::ffff:') ? address.slice(7) : address
    return this.#trusted.check(plain, isIP(plain) === 6 ? 'ipv6' : 'ipv4')
  }

  /** The peer address, or the rightmost untrusted hop of `X-Forwarded-For` when the peer is a trusted proxy. */
  of(request: IncomingMessage): string {
    let address = request.socket.remoteAddress ?? 'unknown'
    if (!this.#isTrusted(address)) return address
    const header = request.headers['x-forwarded-for']
    const hops = (Array.isArray(header) ? header.join(',') : (header ?? '')).split(',').map((h) => h.trim())
    for (let i = hops.length - 1; i >= 0; i--) {
      const hop = hops[i] ?? ''
      if (isIP(hop) === 0) break
      address = hop
      if (!this.#isTrusted(hop)) break
    }
    return address
  }
}
