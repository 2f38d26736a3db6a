import type { ErrorCode, Member, Meta } from '@confab/sdk/protocol'
import type { ChangeRequest } from './changes'
import { checkText, isObject, MAX_META } from './decoder'
import { ClientError } from './errors'
import type { Moderation } from './moderation'
import type { PublishRequest, RoomsGuard } from './rooms'
import type { AppendResult, ChangeResult, Store } from './store/types'

/** Who is publishing, as a hook sees it: 'user' (token), 'guest' (no auth) or 'api' (the HTTP API). */
export type PublisherRole = 'user' | 'guest' | 'api'

/** What `beforePublish` and `CONFAB_HOOK_URL` are given. */
export interface PublishContext {
  room: string
  user: { id: string; name: string; role: PublisherRole }
  /** For an edit, `edit` is the offset of the message being edited, `id` the edit's own id. */
  message: { id: string; text: string; meta?: Meta; edit?: number }
}

/** A hook's answer: store as is, refuse (the sender gets `code` and `message`), or store with new text or meta. */
export type PublishVerdict =
  | { action: 'accept' }
  | { action: 'reject'; code?: ErrorCode; message?: string }
  | { action: 'modify'; text?: string; meta?: Meta }

/** The plugin option: runs before a message is stored, at most once per message id. */
export type BeforePublish = (context: PublishContext) => PublishVerdict | Promise<PublishVerdict>

/** What a hook that is down, slow or answers nonsense means for the message. */
export type HookFailure = 'reject' | 'accept'

/** Codes a hook may refuse with; anything else becomes `forbidden`. */
const REJECT_CODES: readonly ErrorCode[] = ['forbidden', 'bad_request', 'too_large', 'rate_limited', 'limit_exceeded']

/** Longest refusal message a hook may show the sender. */
const MAX_REASON = 200

/** The hook did not answer usefully (down, timed out, bad status or body). */
export class HookError extends Error {
  override name = 'HookError'
}

/**
 * `CONFAB_HOOK_URL` as a `BeforePublish`: a JSON POST of the context,
 * answered with a verdict as JSON; no answer within `timeout` ms, a status
 * other than 200 or a body that is not a verdict is a `HookError`.
 */
export function httpHook(url: string, timeout: number): BeforePublish {
  return async (context) => {
    let response: Response
    try {
      response = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(context),
        signal: AbortSignal.timeout(timeout),
      })
    } catch (error) {
      throw new HookError(`hook ${url} did not answer: ${(error as Error).message}`, { cause: error })
    }
    if (response.status !== 200) {
      await response.body?.cancel()
      throw new HookError(`hook ${url} answered ${response.status}`)
    }
    let body: unknown
    try {
      body = await response.json()
    } catch (error) {
      throw new HookError(`hook ${url} answered a body that is not JSON`, { cause: error })
    }
    if (!isObject(body) || !['accept', 'reject', 'modify'].includes(body.action as string)) {
      throw new HookError(`hook ${url} answered without an action of accept, reject or modify`)
    }
    return body as unknown as PublishVerdict
  }
}

/** Options of `PublishGate`. */
export interface PublishGateOptions {
  store: Store
  moderation: Moderation | undefined
  beforePublish: BeforePublish | undefined
  /** Default 'reject': see docs/moderation.md, "When the hook is down". */
  hookFailure: HookFailure
  maxText: number
  /** Called with each stored message, a duplicate too, before the sender's ack (webhooks queue it here). */
  stored: ((result: AppendResult) => Promise<void>) | undefined
  /** The same for each stored edit, delete or reaction. */
  changed?: ((result: ChangeResult) => Promise<void>) | undefined
  logger: { error(object: object, message: string): void }
}

/**
 * What every publish passes before it is stored: the mute and ban check, the
 * `beforePublish` hook, then, once stored, the webhook queue. A resend of an
 * id the store already knows skips the hook (it is answered as a duplicate
 * with the original); concurrent publishes of one id on this node wait for
 * each other, so the second finds the first's message instead of calling the
 * hook again.
 */
export class PublishGate implements RoomsGuard {
  readonly #o: PublishGateOptions
  /** Publishes under way by room, sender and id: a concurrent resend waits for the first. */
  readonly #pending = new Map<string, Promise<unknown>>()

  constructor(options: PublishGateOptions) {
    this.#o = options
  }

  async join(user: Member, room: string): Promise<void> {
    await this.#o.moderation?.checkJoin(user.id, room)
  }

  async publish(request: PublishRequest, store: (request: PublishRequest) => Promise<AppendResult>) {
    await this.#o.moderation?.checkPublish(request.from.id, request.room)
    return this.#once(request, () => this.#publish(request, store))
  }

  /**
   * Edits and reactions are refused to banned and muted users; a muted user may still delete their own
   * messages. An edit passes the hook like a publish (its context's `message.edit` is the target offset).
   */
  async change(request: ChangeRequest, store: (request: ChangeRequest) => Promise<ChangeResult>) {
    const moderation = this.#o.moderation
    if (request.action === 'delete') await moderation?.checkJoin(request.from.id, request.room)
    else await moderation?.checkPublish(request.from.id, request.room)
    return this.#once(request, () => this.#change(request, store))
  }

  /** Runs `work` for the room, sender and id, after any run of the same still under way on this node. */
  async #once<T>(request: { room: string; from: Member; id: string }, work: () => Promise<T>): Promise<T> {
    // Length-prefixed so no two triples spell one key (and no JSON on the hot path).
    const key = `${request.room.length}:${request.room}${request.from.id.length}:${request.from.id}${request.id}`
    for (let earlier = this.#pending.get(key); earlier !== undefined; earlier = this.#pending.get(key)) {
      await earlier.catch(() => {})
    }
    const run = work()
    this.#pending.set(key, run)
    try {
      return await run
    } finally {
      if (this.#pending.get(key) === run) this.#pending.delete(key)
    }
  }

  async #change(
    request: ChangeRequest,
    store: (request: ChangeRequest) => Promise<ChangeResult>,
  ): Promise<ChangeResult> {
    let final = request
    const { beforePublish } = this.#o
    if (
      request.action === 'edit' &&
      request.text !== undefined &&
      beforePublish !== undefined &&
      (await this.#o.store.find(request.room, request.from.id, request.id)) === undefined
    ) {
      const asked = await this.#ask(
        beforePublish,
        {
          room: request.room,
          id: request.id,
          from: request.from,
          text: request.text,
          meta: request.meta,
          role: request.role,
        },
        request.target,
      )
      final = { ...request, text: asked.text, meta: asked.meta }
    }
    const result = await store(final)
    await this.#o.changed?.(result)
    return result
  }

  async #publish(
    request: PublishRequest,
    store: (request: PublishRequest) => Promise<AppendResult>,
  ): Promise<AppendResult> {
    let final = request
    const { beforePublish } = this.#o
    if (
      beforePublish !== undefined &&
      (await this.#o.store.find(request.room, request.from.id, request.id)) === undefined
    ) {
      final = await this.#ask(beforePublish, request)
    }
    const result = await store(final)
    await this.#o.stored?.(result)
    return result
  }

  async #ask(hook: BeforePublish, request: PublishRequest, edit?: number): Promise<PublishRequest> {
    const message: PublishContext['message'] = { id: request.id, text: request.text }
    if (request.meta !== undefined) message.meta = request.meta
    if (edit !== undefined) message.edit = edit
    const context: PublishContext = {
      room: request.room,
      user: { id: request.from.id, name: request.from.name, role: request.role ?? 'user' },
      message,
    }
    let verdict: PublishVerdict
    try {
      verdict = await hook(context)
    } catch (error) {
      this.#o.logger.error({ err: error, room: request.room }, 'beforePublish failed')
      if (this.#o.hookFailure === 'accept') return request
      throw new ClientError('unavailable', 'the message could not be checked, try again later')
    }
    switch (verdict?.action) {
      case 'accept':
        return request
      case 'reject': {
        const code = REJECT_CODES.includes(verdict.code as ErrorCode) ? (verdict.code as ErrorCode) : 'forbidden'
        const text = typeof verdict.message === 'string' ? verdict.message.slice(0, MAX_REASON) : 'message refused'
        throw new ClientError(code, text)
      }
      case 'modify': {
        const changed = { ...request }
        try {
          if (verdict.text !== undefined) changed.text = checkText(verdict.text, this.#o.maxText)
          if (verdict.meta !== undefined) changed.meta = checkMeta(verdict.meta)
        } catch (error) {
          this.#o.logger.error({ err: error, room: request.room }, 'beforePublish modified the message into a bad one')
          if (this.#o.hookFailure === 'accept') return request
          throw new ClientError('unavailable', 'the message could not be checked, try again later')
        }
        return changed
      }
      default:
        this.#o.logger.error({ room: request.room }, 'beforePublish returned no action')
        if (this.#o.hookFailure === 'accept') return request
        throw new ClientError('unavailable', 'the message could not be checked, try again later')
    }
  }
}

function checkMeta(value: unknown): Meta {
  if (!isObject(value)) throw new ClientError('bad_request', 'meta must be an object')
  if (Buffer.byteLength(JSON.stringify(value)) > MAX_META) {
    throw new ClientError('too_large', `meta is larger than ${MAX_META} bytes`)
  }
  return value
}
