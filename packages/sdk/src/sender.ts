import { type Bucket, createBucket } from './bucket.js'
import type { RequestFrame } from './client.js'
import { DEFAULTS } from './defaults.js'
import { ConfabError, notNow } from './errors.js'
import { newId } from './id.js'
import { createOutbox, type Draft, type Entry } from './outbox.js'
import type { AckFrame, ClientFrame, ErrorFrame, Limits, Member, Message, RelayFrame } from './protocol.js'
import { type Ask, type AskFrame, createAsk } from './request.js'

/** What the sender needs from the client. Internal. */
export interface SenderHooks {
  /** Sends a frame on the open socket; false when there is none. */
  send(frame: ClientFrame): boolean
  /** The link may be dead: ping and expect a frame within `within` ms. */
  probe(within: number): void
  /** Whether the room is joined on the current socket; when it is not, asks it to join (its join may wait for a token). */
  joined(room: string): boolean
  /** Every room name, for a paced flush. */
  rooms(): Iterable<string>
  /** Throws when nothing could ever answer a request in this room (any, without one): `closed`, or the room's refusal. */
  check(room?: string): void
  /** The local user, once welcomed. */
  user(): Member | undefined
  /** The outbox changed: persist it. */
  changed(): void
  /** A final failure that no caller waits for. */
  error(error: ConfabError): void
}

/** The send pipeline: the outbox, pacing to the relay's rates, deadlines, retry-later, history requests. Internal. */
export interface Sender {
  /**
   * Queues a message or change with `id` (default: a fresh one) and sends it when its room is joined and its
   * turn comes; resolves with the stored message (for a change, the message's state after it).
   */
  publish(draft: Omit<Draft, 'id'>, id?: string): Promise<Message>
  /**
   * Sends a frame that expects an answer once its room is joined (without a room: once the session is open), again
   * after a reconnect, and resolves with the answer; rejects with the relay's error, `closed`, or `timeout` after
   * `sendTimeout` from the call.
   */
  request(frame: RequestFrame): Promise<RelayFrame>
  /** Sends a join, typing or request frame within the relay's frame rate; false when it cannot now. */
  paced(frame: ClientFrame): boolean
  /**
   * Sends the room's requests and its next message (the room was just joined, or a turn came); without a room, the
   * requests that name none (the session just opened).
   */
  flush(room?: string): void
  /** A `welcome`: the relay's rates start new buckets. */
  welcome(limits: Limits): void
  ack(frame: AckFrame): void
  /** A frame with a `ref`: true when it answered a request. */
  answer(frame: RelayFrame): boolean
  /** An `error` frame: true when it answered a message or a request (then it is handled). */
  refused(frame: ErrorFrame, error: ConfabError): boolean
  /** Sends everything again in `ms` (the relay said "not now"). */
  later(ms?: number): void
  /** The socket is gone: everything waits for the next one. */
  down(): void
  /** Rejects the waiting messages and requests of one room, or of all (`undefined`). */
  rejectAll(room: string | undefined, error: ConfabError): void
  /** A fresh ref for a frame of this client (`#` and a number: never a room name or an app's id). */
  ref(): string
  /** The messages waiting, oldest first, for persistence. */
  drafts(): Draft[]
}

/** A message id: unique enough within a room's 10-minute idempotency window, no crypto needed. */

/** Creates a sender holding at most `limit` messages, each with `timeout` ms for its ack, starting with `restored`. */
export function createSender(limit: number, timeout: number, restored: Draft[], hooks: SenderHooks): Sender {
  const outbox = createOutbox(limit)
  const asks = new Map<string, Ask>()
  let refs = 0
  let paceTimer: ReturnType<typeof setTimeout> | undefined
  // Set by every `welcome`, before any room can be joined (and so before any publish).
  let bucket: Bucket
  // The relay's limit on join, leave, typing and history frames, when its `welcome` announces one.
  let frames: Bucket | undefined
  const ref = (): string => `#${++refs}`

  /**
   * Settles the `send` calls waiting on `entry`. A final failure nobody waits for (a message restored
   * from storage, or one whose callers already got `timeout`) goes to the `error` event instead.
   */
  const settle = (entry: Entry, result: Message | ConfabError, final = true): void => {
    const error =
      result instanceof ConfabError && new ConfabError(result.code, result.message, result.retryAfter, entry.draft.id)
    const waits = entry.waits.splice(0)
    if (error && final && !waits.length) hooks.error(error)
    for (const [ok, reject] of waits) error ? reject(error) : ok(result as Message)
  }
  /** The relay answered the message for good: out of the outbox, its callers told, the next one in its room sent. */
  const done = (entry: Entry, result: Message | ConfabError): void => {
    outbox.take(entry)
    hooks.changed()
    settle(entry, result)
    flush(entry.draft.room)
  }
  /** The deadline of an entry in line on the current socket; one that runs already is kept. */
  const arm = (entry: Entry): void => {
    entry.timer ??= setTimeout(() => {
      entry.timer = undefined
      // Not confirmed in time, but maybe stored: the message stays queued and goes again, same id, after a
      // reconnect. Only its callers are told, so that none waits forever.
      settle(entry, new ConfabError('timeout', `no ack within ${timeout} ms`), false)
      // A lost ack most often means a dead link: find out now, not a heartbeat later. Half the timeout
      // (5 s by default) settles it before this deadline comes round again for a retry waiting here.
      if (entry.sent) hooks.probe(timeout / 2)
      // Its room's line is stuck: what waits behind it gets a deadline too, and this one another.
      for (const e of outbox.list()) if (e.draft.room === entry.draft.room) arm(e)
    }, timeout)
  }
  /**
   * Sends the room's history requests, then its oldest waiting message, paced to the relay's publish rate.
   * One publish per room is on the wire at a time: one the relay answers "not now" (`unavailable`,
   * `rate_limited`) goes again before those behind it, so the room stores them in the app's order.
   */
  const flush = (room?: string): void => {
    if (room !== undefined && !hooks.joined(room)) return
    for (const ask of asks.values()) if (ask.frame.room === room) ask.sent ||= paced(ask.frame)
    const entry = room !== undefined && outbox.list().find((e) => e.draft.room === room)
    if (!entry || entry.sent) return
    const wait = bucket.take()
    if (wait) later(wait)
    else if (hooks.send({ type: 'publish', ref: entry.ref, ...entry.draft } as ClientFrame)) {
      entry.sent = true
      arm(entry)
    }
  }
  /** Flushes every room again in `ms` (one timer, however many rooms wait). */
  const later = (ms = DEFAULTS.retryLater): void => {
    paceTimer ??= setTimeout(() => {
      paceTimer = undefined
      flush()
      for (const name of hooks.rooms()) flush(name)
    }, ms)
  }
  const paced = (frame: ClientFrame): boolean => {
    // Only frames on an open socket count: when none is open the token is not missed (the next `welcome` makes a new bucket).
    const wait = frames?.take()
    if (!wait) return hooks.send(frame)
    later(wait)
    return false
  }

  for (const draft of restored.slice(0, limit)) {
    // Restored from a previous page: nobody awaits these, so failures go to the `error` event.
    outbox.add({ ref: ref(), draft, waits: [] })
  }

  return {
    publish(draft, id = newId()) {
      const { room } = draft
      return new Promise<Message>((ok, reject) => {
        hooks.check(room)
        const queued = outbox.list().find((e) => e.draft.id === id && e.draft.room === room)
        // A retry with the id of a message still queued (say after a `timeout`) waits for that message.
        if (queued) queued.waits.push([ok, reject])
        else {
          outbox.add({ ref: ref(), draft: { ...draft, id }, waits: [[ok, reject]] })
          hooks.changed()
        }
        flush(room)
      })
    },
    request(frame) {
      return new Promise<RelayFrame>((ok, reject) => {
        const { room } = frame as { room?: string }
        hooks.check(room)
        createAsk({ ...frame, ref: ref() } as AskFrame, timeout, ok, reject, asks)
        flush(room)
      })
    },
    paced,
    flush,
    welcome(limits) {
      // `frameRate` and `frameBurst` are optional: relays before them do not announce them.
      const l = limits as Limits & { frameRate?: number }
      bucket = createBucket(l.publishRate, l.publishBurst)
      frames = l.frameRate ? createBucket(l.frameRate, l.frameBurst) : undefined
    },
    ack(f) {
      // Only the SDK's own refs match: never confused with an app's id.
      const entry = outbox.list().find((e) => e.ref === f.ref)
      // An ack follows `welcome`, so the user is known.
      // A change's ack carries the message's state after it; a publish's is the draft, stored.
      if (entry)
        done(entry, f.message ?? ({ ...entry.draft, offset: f.offset, from: hooks.user(), ts: f.ts } as Message))
    },
    answer(f) {
      const ask = asks.get((f as { ref: string }).ref)
      ask?.answer(f)
      return !!ask
    },
    refused(f, error) {
      const { ref, room, code } = f
      // A publish the relay could not parse may come back without its ref, naming only the room. With one publish
      // per room on the wire, that one is what failed: left unanswered, it would block its room for good. (The
      // SDK's other frames that name a room have no ref or are joins, matched by their ref.)
      const entry = outbox.list().find((e) => (ref ? e.ref === ref : e.sent && e.draft.room === room))
      const ask = asks.get(ref as string)
      if (!entry && !ask) return false
      if (notNow(code)) {
        // Not the frame's fault: it keeps its place in line and goes again when the relay says.
        // A message keeps its deadline, so a long outage still ends its `send` with `timeout` (it stays queued).
        ;(entry || (ask as Ask)).sent = undefined
        later(f.retryAfter)
      } else if (entry) done(entry, error)
      else ask?.answer(error)
      return true
    },
    later,
    down() {
      clearTimeout(paceTimer)
      paceTimer = undefined
      outbox.pause()
      // History requests go again after the re-join, within their own deadline.
      for (const ask of asks.values()) ask.sent = false
    },
    rejectAll(room, error) {
      for (const entry of outbox.list()) {
        if (room !== undefined && entry.draft.room !== room) continue
        outbox.take(entry)
        settle(entry, error)
      }
      for (const ask of asks.values()) if (room === undefined || ask.frame.room === room) ask.answer(error)
    },
    ref,
    drafts: () => outbox.list().map((e) => e.draft),
  }
}
