/** A running latency proxy. */
export interface LatencyProxy {
  /** The port it listens on, at 127.0.0.1. */
  readonly port: number
  /** Destroys every connection and stops listening. */
  close(): Promise<void>
}

/** Starts a TCP proxy on 127.0.0.1 (port 0) in front of `port` that delays every byte by `delay` ms each way. */
export function startLatencyProxy(target: { port: number; host?: string; delay: number }): Promise<LatencyProxy>
