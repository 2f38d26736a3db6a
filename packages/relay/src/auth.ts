import { createHmac, createPublicKey, type KeyObject, randomBytes, randomUUID, timingSafeEqual } from 'node:crypto'
import { errors as joseErrors, jwtVerify } from 'jose'
import { type AuthOptions, type AuthUser, ConfigError } from './config'
import { ClientError } from './errors'
import { conversationRoom, isConversationRoom } from './store/conversations'
import { cleanName } from './text'

/** Who a `hello` says it is. */
export interface HelloIdentity {
  token?: string | undefined
  name?: string | undefined
  resume?: string | undefined
  /** The operator key: signs the connection in as an operator. */
  key?: string | undefined
}

/** The authenticated user of a connection, and the string that lets a guest keep its id. */
export interface Identity {
  user: AuthUser
  resume?: string
}

/** Turns a `hello` into a user, or rejects with `unauthorized` / `token_expired`. */
export type Authenticate = (hello: HelloIdentity) => Promise<Identity>

/** Display names are cleaned by the rules in text.ts, shared with the HTTP API. */
export { cleanName } from './text'

function guestName(id: string): string {
  return `Guest ${id.slice(-4)}`
}

/** Signs and checks guest `resume` strings, so a reconnecting guest keeps its id. */
class GuestIds {
  readonly #secret: Buffer

  constructor(secret: string | undefined) {
    this.#secret = secret === undefined ? randomBytes(32) : Buffer.from(secret)
  }

  #sign(id: string): string {
    return createHmac('sha256', this.#secret).update(id).digest('base64url')
  }

  create(prefix = 'guest_'): { id: string; resume: string } {
    // Joined rather than concatenated: one flat string (40 bytes) instead of a cons string and its two parts
    // (64), kept for as long as the guest is connected.
    const id = [prefix, randomUUID().replaceAll('-', '').slice(0, 16)].join('')
    return { id, resume: `${id}.${this.#sign(id)}` }
  }

  /** The id inside a valid resume string, or null (a forged or foreign one just gets a new id). */
  check(resume: string): string | null {
    const dot = resume.lastIndexOf('.')
    if (dot <= 0) return null
    const raw = Buffer.from(resume.slice(0, dot))
    const given = Buffer.from(resume.slice(dot + 1))
    // Decoded from bytes rather than sliced: a slice would keep the whole resume string alive as long as the connection.
    const id = raw.toString()
    const expected = Buffer.from(this.#sign(id))
    return given.length === expected.length && timingSafeEqual(given, expected) ? id : null
  }
}

function roomsClaim(value: unknown): string[] | undefined {
  if (value === undefined) return undefined
  if (!Array.isArray(value) || !value.every((room) => typeof room === 'string')) {
    throw new ClientError('unauthorized', 'token claim "rooms" must be a list of room names')
  }
  return value
}

/** The key and the one algorithm the server accepts for it; never taken from the token header. */
function jwtKey(auth: AuthOptions): { key: KeyObject | Uint8Array; algorithms: string[] } {
  if (auth.secret !== undefined) return { key: new TextEncoder().encode(auth.secret), algorithms: ['HS256'] }
  let key: KeyObject
  try {
    key = createPublicKey(auth.publicKey ?? '')
  } catch {
    throw new ConfigError('auth.publicKey', 'cannot be read as a PEM public key')
  }
  if (key.asymmetricKeyType === 'rsa') return { key, algorithms: ['RS256'] }
  if (key.asymmetricKeyType === 'ec' && key.asymmetricKeyDetails?.namedCurve === 'prime256v1') {
    return { key, algorithms: ['ES256'] }
  }
  throw new ConfigError('auth.publicKey', 'must be an RSA key (RS256) or an EC P-256 key (ES256)')
}

/** Operator ids of key sign-ins; a guest `resume` naming one is not honoured without the key. */
const OPERATOR_PREFIX = 'op_'

/**
 * The operator key when none is configured: derived from the resume secret, so it is as stable as that
 * (kept in the SQLite file or in Redis, equal on every node), or random when there is none (memory).
 */
export function deriveOperatorKey(secret: string | undefined): string {
  if (secret === undefined) return randomBytes(24).toString('base64url')
  return createHmac('sha256', secret).update('confab operator key').digest('base64url').slice(0, 32)
}

/** Constant-time comparison of a given key with the operator key, without revealing its length. */
export function isOperatorKey(given: string, key: string): boolean {
  const a = createHmac('sha256', 'confab key check').update(given).digest()
  const b = createHmac('sha256', 'confab key check').update(key).digest()
  return timingSafeEqual(a, b)
}

/** Throws the setup mistakes of `auth` (an unreadable key) before anything is opened with the configuration. */
export function checkAuthKeys(auth: AuthOptions | undefined): void {
  if (auth !== undefined && auth.verify === undefined) jwtKey(auth)
}

/**
 * Builds the check for `hello`: an operator by key first (on any relay), then anonymous guests without auth,
 * else a JWT or the custom `verify` (either may make an operator with `role: 'operator'`).
 */
export function createAuthenticator(
  auth: AuthOptions | undefined,
  options: { maxName: number; resumeSecret: string | undefined; operatorKey: string },
): Authenticate {
  const guests = new GuestIds(options.resumeSecret)
  const byAuth = authenticator(auth, options, guests)
  return async (hello) => {
    if (hello.key === undefined) return byAuth(hello)
    if (!isOperatorKey(hello.key, options.operatorKey)) throw new ClientError('unauthorized', 'invalid operator key')
    const known = hello.resume === undefined ? null : guests.check(hello.resume)
    const operator =
      known?.startsWith(OPERATOR_PREFIX) === true
        ? { id: known, resume: hello.resume as string }
        : guests.create(OPERATOR_PREFIX)
    const name = cleanName(hello.name, options.maxName) || 'Operator'
    return { user: { id: operator.id, name, role: 'operator' }, resume: operator.resume }
  }
}

function authenticator(auth: AuthOptions | undefined, options: { maxName: number }, guests: GuestIds): Authenticate {
  if (auth === undefined) {
    return async (hello) => {
      const checked = hello.resume === undefined ? null : guests.check(hello.resume)
      // An operator's resume string without the key signs in nobody: a new guest.
      const known = checked?.startsWith(OPERATOR_PREFIX) ? null : checked
      const guest = known === null ? guests.create() : { id: known, resume: hello.resume as string }
      const name = cleanName(hello.name, options.maxName) || guestName(guest.id)
      return { user: { id: guest.id, name }, resume: guest.resume }
    }
  }

  const custom = auth.verify
  const jwt = custom === undefined ? jwtKey(auth) : null
  const leeway = auth.leeway ?? 5

  return async (hello) => {
    if (hello.token === undefined || hello.token === '') throw new ClientError('unauthorized', 'a token is required')
    let user: AuthUser
    if (custom !== undefined) {
      try {
        user = await custom(hello.token)
      } catch (error) {
        throw error instanceof ClientError ? error : new ClientError('unauthorized', 'token rejected')
      }
      if (typeof user?.id !== 'string' || user.id === '') throw new ClientError('unauthorized', 'token rejected')
      // Only the exact role is kept: anything else the app returns is a visitor.
      const { role, ...rest } = user
      user = role === 'operator' ? { ...rest, role } : rest
    } else if (jwt !== null) {
      let payload: Record<string, unknown>
      try {
        ;({ payload } = await jwtVerify(hello.token, jwt.key, {
          algorithms: jwt.algorithms,
          clockTolerance: leeway,
          // A token without `exp` would be good forever once leaked; `requireExp: false` accepts one.
          requiredClaims: auth.requireExp === false ? [] : ['exp'],
          ...(auth.issuer === undefined ? {} : { issuer: auth.issuer }),
          ...(auth.audience === undefined ? {} : { audience: auth.audience }),
        }))
      } catch (error) {
        if (error instanceof joseErrors.JWTExpired) throw new ClientError('token_expired', 'token expired')
        if (error instanceof joseErrors.JWTClaimValidationFailed && error.claim === 'exp') {
          throw new ClientError('unauthorized', 'token has no "exp" claim')
        }
        throw new ClientError('unauthorized', 'invalid token')
      }
      if (typeof payload.sub !== 'string' || payload.sub === '') {
        throw new ClientError('unauthorized', 'token has no "sub" claim')
      }
      const rooms = roomsClaim(payload.rooms)
      user = {
        id: payload.sub,
        name: typeof payload.name === 'string' ? payload.name : payload.sub,
        ...(rooms === undefined ? {} : { rooms }),
        ...(payload.role === 'operator' ? { role: 'operator' as const } : {}),
      }
    } else {
      throw new Error('unreachable: auth configured without a method')
    }
    const name = cleanName(user.name, options.maxName) || cleanName(user.id, options.maxName)
    return { user: { ...user, name } }
  }
}

/**
 * True when the user may enter the room. A conversation room: its owner and operators only, whatever
 * the `rooms` claim says. Any other: no `rooms` claim, an exact name, or a `prefix*` match.
 */
export function mayEnter(user: AuthUser, room: string): boolean {
  if (isConversationRoom(room)) return user.role === 'operator' || room === conversationRoom(user.id)
  if (user.rooms === undefined) return true
  return user.rooms.some((allowed) =>
    allowed.endsWith('*') ? room.startsWith(allowed.slice(0, -1)) : allowed === room,
  )
}
