// Load-generator process: opens receivers and/or senders for one peer and runs
// send phases on command. Receivers count deliveries and latencies per phase
// straight from raw frame bytes. Pinned to the load core by the coordinator.
import { createHistogram, record, toSparse } from './histogram.mjs'
import { makeText, nowUs, readText } from './message.mjs'
import { takeOver } from './raw-receiver.mjs'
import { serve } from './rpc.mjs'
import { sleep } from './stats.mjs'

const receivers = []
const senders = []
const phases = new Map()
let peer

function phaseState(phase) {
  let state = phases.get(phase)
  if (!state) {
    state = { counts: new Uint32Array(receivers.length), histogram: createHistogram() }
    phases.set(phase, state)
  }
  return state
}

function onDelivery(index, buf, start, end) {
  const msg = readText(buf, start, end)
  if (!msg) return
  const state = phaseState(msg.phase)
  state.counts[index]++
  record(state.histogram, nowUs() - msg.sentUs)
}

/** Runs `open(i)` for i in [0, count) with at most `parallel` handshakes in flight. */
async function openMany(count, parallel, openOne) {
  let next = 0
  let errors = 0
  const lane = async () => {
    while (next < count) {
      const i = next++
      try {
        await openOne(i)
      } catch (err) {
        if (errors++ === 0) console.error(`load: first connect error: ${err.message}`)
      }
    }
  }
  await Promise.all(Array.from({ length: Math.min(parallel, count) }, lane))
  return errors
}

async function openReceivers({ peerName, url, room, count, sources, parallel = 64 }) {
  peer ??= await import(`../peers/${peerName}.mjs`)
  const before = receivers.filter(Boolean).length
  const errors = await openMany(count, parallel, async (i) => {
    const index = receivers.length
    receivers.push(null)
    const localAddress = sources[i % sources.length]
    const ws = await peer.openReceiver(url, room, { localAddress })
    takeOver(ws, { onText: (buf, start, end) => onDelivery(index, buf, start, end), answer: peer.answer })
    receivers[index] = ws
  })
  return { open: receivers.filter(Boolean).length - before, errors }
}

let acked = 0
let running = false
let windowSize = 0

async function openSenders({ peerName, url, room, count }) {
  peer ??= await import(`../peers/${peerName}.mjs`)
  for (let i = 0; i < count; i++) {
    const sender = { seq: 0, phase: 0, link: null }
    sender.link = await peer.openSender(url, room, {
      onAck: () => {
        acked++
        // Saturation: each ack frees a slot in the sender's window.
        if (running && windowSize) send(sender)
      },
    })
    senders.push(sender)
  }
  return { open: senders.length }
}

let sent = 0
function send(sender) {
  sent++
  sender.link.send(makeText(sender.phase, ++sender.seq))
}

/** One send phase: a fixed total `rate` (msg/s) or, with `window`, that many unacked per sender. */
async function run({ phase, rate, window: inFlight = 0, duration, ackTimeout = 10_000 }) {
  windowSize = inFlight
  sent = 0
  acked = 0
  for (const s of senders) s.phase = phase
  running = true
  const started = Date.now()
  if (windowSize) {
    for (const s of senders) for (let i = 0; i < windowSize; i++) send(s)
    await sleep(duration)
  } else {
    let turn = 0
    while (Date.now() - started < duration) {
      const due = Math.floor((rate * (Date.now() - started)) / 1000) - sent
      for (let i = 0; i < due; i++) send(senders[turn++ % senders.length])
      await sleep(5)
    }
  }
  running = false
  const sendMs = Date.now() - started
  const deadline = Date.now() + ackTimeout
  while (acked < sent && Date.now() < deadline) await sleep(20)
  return { sent, acked, sendMs }
}

function report({ phase, expected }) {
  const state = phaseState(phase)
  let received = 0
  let complete = 0
  let min = Number.POSITIVE_INFINITY
  for (let i = 0; i < receivers.length; i++) {
    const n = state.counts[i]
    received += n
    if (n >= expected) complete++
    if (n < min) min = n
  }
  return { receivers: receivers.length, received, complete, min, histogram: toSparse(state.histogram) }
}

serve(
  new Map([
    ['receivers', openReceivers],
    ['senders', openSenders],
    ['run', run],
    ['report', report],
    ['count', ({ phase }) => phaseState(phase).counts.reduce((a, b) => a + b, 0)],
    ['rss', () => process.memoryUsage.rss()],
    [
      'close',
      () => {
        for (const r of receivers) r?.terminate()
        for (const s of senders) s.link.close()
        return true
      },
    ],
  ]),
)
process.send({ ready: true })
