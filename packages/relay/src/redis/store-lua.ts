// Lua run inside Redis, so reading and changing a room is one atomic step that
// two relay nodes can never interleave. Numbers stay below 2^53 and print as
// integers in Lua 5.1's %.14g up to 10^14, far above any offset or ms clock.
//
// A stream entry holds the fields d (JSON), t (ts), i (scoped id) and, on a change (issue 14), c (the
// target's offset) and, on a reaction, o ('1' on, '0' off): `f[7] == 'c'` tells a change. A stream entry
// cannot be edited in place, so a changed message's current state lives beside the stream, in the room's
// state hash (see RedisKeys.state), under its offset, trimmed with the stream: the JSON of
// { t?: text as JSON, m?: meta as JSON, e?: editedAt, d?: 1 when deleted, r?: [[emoji, [user ids]], ...] }.
// Text and meta stay JSON strings inside it, so Lua's cjson never re-encodes what a client sent
// (it would turn an empty array into {}), and reactions are pairs so their order is kept.
import { READ_LIMIT } from '../store/lifecycle'

/**
 * Loads the room's epoch and bounds, creating or renewing the epoch.
 * `base` is the offset just before the stream's first entry: the stream should
 * hold `base+1 .. head` (minus trimming), so `head > base` with no stream
 * means the history was lost (eviction, a Redis restart without persistence)
 * and the room gets a new epoch; offsets keep counting up from `head`.
 * A room with neither record nor stream was never written: it has the
 * deployment's epoch for untouched rooms (`shared`, made once) and, unless
 * `write` is set (an append), nothing is stored for it, so reading any name
 * leaves no trace. That key sits outside the room's hash slot, so on a Redis
 * Cluster the node reads it once at start and passes it as `known` (the
 * shared key is then never touched; '' or nil: read it here).
 */
const ROOM = `
local function room(meta, stream, shared, candidate, write, known)
  local epoch = redis.call('HGET', meta, 'epoch')
  local head = tonumber(redis.call('HGET', meta, 'head') or '0')
  local base = tonumber(redis.call('HGET', meta, 'base') or '0')
  local length = redis.call('XLEN', stream)
  if not epoch and length == 0 then
    if known and known ~= '' then
      epoch = known
    else
      epoch = redis.call('GET', shared)
      if not epoch then
        epoch = candidate
        redis.call('SET', shared, epoch)
      end
    end
    if write then redis.call('HSET', meta, 'epoch', epoch, 'head', 0, 'base', 0) end
  elseif not epoch then
    local last = redis.call('XREVRANGE', stream, '+', '-', 'COUNT', 1)
    head = tonumber(string.match(last[1][1], '^(%d+)'))
    epoch = candidate
    base = head - length
    redis.call('HSET', meta, 'epoch', epoch, 'head', head, 'base', base)
  elseif head > base and length == 0 then
    epoch = candidate
    base = head
    redis.call('HSET', meta, 'epoch', epoch, 'base', base)
  end
  return epoch, head, length
end
`

/**
 * Appends an entry at offset `head` with `fields`, trims the stream to `limit` (forgetting the trimmed
 * entries' ids and states) and records the id both ways (see APPEND_LUA).
 */
const PUSH = `
local function push(meta, stream, idkey, ids, state, head, ts, fields, scoped, limit, window)
  redis.call('XADD', stream, head .. '-0', unpack(fields))
  local excess = redis.call('XLEN', stream) - tonumber(limit)
  if excess > 0 then
    for _, entry in ipairs(redis.call('XRANGE', stream, '-', '+', 'COUNT', excess)) do
      if entry[2][5] == 'i' then redis.call('HDEL', ids, entry[2][6]) end
      redis.call('HDEL', state, string.match(entry[1], '^(%d+)'))
    end
    redis.call('XTRIM', stream, 'MAXLEN', limit)
  end
  redis.call('HSET', meta, 'head', head)
  local record = head .. ':' .. ts
  redis.call('HSET', ids, scoped, record)
  redis.call('SET', idkey, record, 'PX', window)
end
`

/**
 * Moves `user`'s read position forward to `offset`; returns the position after. Positions live in a
 * sorted set by offset and one by move order (the meta's `moves` counter): past READ_LIMIT (10,000) the least
 * recently moved goes.
 */
const MOVE_READ = `
local function moveRead(meta, reads, moves, user, offset)
  local current = tonumber(redis.call('ZSCORE', reads, user) or '0')
  if offset <= current then return current end
  redis.call('ZADD', reads, offset, user)
  redis.call('ZADD', moves, redis.call('HINCRBY', meta, 'moves', 1), user)
  if redis.call('ZCARD', reads) > ${READ_LIMIT} then
    local oldest = redis.call('ZPOPMIN', moves)
    redis.call('ZREM', reads, oldest[1])
  end
  return offset
end
`

/** The retained message at `offset`: its fields and state JSON (false when none), or false (none, or a change). */
const MESSAGE_AT = `
local function messageAt(stream, state, offset)
  local entry = redis.call('XRANGE', stream, offset .. '-0', offset .. '-0')[1]
  if not entry or entry[2][7] == 'c' then return false, false end
  return entry[2], redis.call('HGET', state, offset)
end
`

/**
 * Replaces the draft (field d) of the entry at `offset` with `body`. A stream entry cannot be edited in
 * place and XADD only appends, so the entries from `offset` on are deleted, the stream's last id set back
 * before them (XSETID) and they are added again with the same ids: the cost is the number of entries
 * after it, small for the recent messages people take back.
 */
const REWRITE = `
local function rewrite(stream, offset, body)
  local tail = redis.call('XRANGE', stream, offset .. '-0', '+')
  for _, entry in ipairs(tail) do redis.call('XDEL', stream, entry[1]) end
  redis.call('XSETID', stream, (tonumber(offset) - 1) .. '-0')
  tail[1][2][2] = body
  for _, entry in ipairs(tail) do redis.call('XADD', stream, entry[1], unpack(entry[2])) end
end
`

/**
 * The `n` furthest positions as [user, offset, ...]: those past the n-th one's offset, then the users at
 * that offset in user order (a sorted set lists equal scores backwards when reversed).
 */
const FURTHEST = `
local function furthest(reads, n)
  local top = redis.call('ZREVRANGE', reads, 0, n - 1, 'WITHSCORES')
  if #top < 2 * n then return top end
  local last = top[#top]
  local out = {}
  for i = 1, #top, 2 do
    if top[i + 1] ~= last then
      out[#out + 1] = top[i]
      out[#out + 1] = top[i + 1]
    end
  end
  local ties = redis.call('ZRANGEBYSCORE', reads, last, last, 'WITHSCORES', 'LIMIT', 0, n - #out / 2)
  for _, v in ipairs(ties) do out[#out + 1] = v end
  return out
end
`

/**
 * KEYS meta, stream, untouched-room epoch; ARGV candidate epoch, the untouched-room epoch when known
 * (on a cluster; then KEYS[3] is not read). Returns `{epoch, head, length}`.
 */
export const STATE_LUA = `${ROOM}
local epoch, head, length = room(KEYS[1], KEYS[2], KEYS[3], ARGV[1], false, ARGV[2])
return {epoch, head, length}
`

/**
 * KEYS meta, stream, id key, ids hash, untouched-room epoch, state hash, reads, read moves[, conversation,
 * index]; ARGV scoped id (sender and client id, see `RedisKeys.scopedId`), draft JSON, history
 * limit, idempotency window in ms, candidate epoch, (6-9 below), sender id.
 * An id is known while its message is retained (the ids hash, trimmed
 * with the stream) and for the window after it was stored (the id key's TTL),
 * whichever is longer. A known id returns `{1, offset, ts, draft JSON or '', epoch}`
 * (the original, nothing written; the draft is '' when its entry was trimmed or is a change, and the
 * message's state JSON follows when it has one); otherwise the draft is appended with the
 * next offset, the stream trimmed to the limit, the id recorded both ways, the sender's read position
 * moved to it, and `{0, offset, ts, '', epoch, entry}` returned.
 * In a conversation room (ARGV[6] the sender's side, 'visitor' or 'operator';
 * '' elsewhere) the index entry is updated in the same step: KEYS[9] its hash,
 * KEYS[10] the index; ARGV[7] a new entry's JSON, ARGV[8] the preview, ARGV[9]
 * the visitor's name. `entry` is the updated entry's JSON ('' outside conversations).
 * ARGV[11] is the untouched-room epoch when known (see ROOM). On a cluster KEYS[10] is left out (the
 * index is in another slot) and the caller adds the entry to the index after the script.
 */
export const APPEND_LUA = `${ROOM}${PUSH}${MOVE_READ}
local epoch, head = room(KEYS[1], KEYS[2], KEYS[5], ARGV[5], true, ARGV[11])
local seen = redis.call('GET', KEYS[3]) or redis.call('HGET', KEYS[4], ARGV[1])
if seen then
  local offset, ts = string.match(seen, '^(%d+):(%d+)$')
  local entry = redis.call('XRANGE', KEYS[2], offset .. '-0', offset .. '-0')
  local draft = ''
  if entry[1] and entry[1][2][7] ~= 'c' then draft = entry[1][2][2] end
  return {1, tonumber(offset), tonumber(ts), draft, epoch, '', redis.call('HGET', KEYS[6], offset)}
end
local now = redis.call('TIME')
local ts = tonumber(now[1]) * 1000 + math.floor(tonumber(now[2]) / 1000)
head = head + 1
push(KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[6], head, ts, {'d', ARGV[2], 't', ts, 'i', ARGV[1]}, ARGV[1], ARGV[3], ARGV[4])
moveRead(KEYS[1], KEYS[7], KEYS[8], ARGV[10], head)
local entry = ''
if ARGV[6] ~= '' then
  local stored = redis.call('HGET', KEYS[9], 'e')
  local e
  if stored then e = cjson.decode(stored) else
    e = cjson.decode(ARGV[7])
    e.createdAt = ts
  end
  e.lastActivityAt = ts
  e.preview = ARGV[8]
  if ARGV[6] == 'visitor' then
    e.unread.operators = e.unread.operators + 1
    e.status = 'open'
    e.visitor.name = ARGV[9]
  else
    e.unread.visitor = e.unread.visitor + 1
  end
  entry = cjson.encode(e)
  redis.call('HSET', KEYS[9], 'e', entry)
  if KEYS[10] then redis.call('ZADD', KEYS[10], ts, e.id) end
end
return {0, head, ts, '', epoch, entry}
`

/**
 * KEYS meta, stream, id key, ids hash, untouched-room epoch, state hash; ARGV scoped id, change JSON
 * ({ id, from, action, target, emoji? }), history limit, idempotency window in ms, candidate epoch, target
 * offset, action, the sender's encoded id followed by '.', ownOnly ('1'/'0'), edit window in ms, most
 * reactions, emoji, on ('1', '0', '' to toggle), text JSON, meta JSON or '', sender id, the
 * untouched-room epoch when known (see ROOM).
 * Checks the rules against the target as stored (store/lifecycle.ts has them for the other stores),
 * writes its new state (a delete also rewrites the target's entry without its text and meta) and appends
 * the change. Returns `{-1, code, reason}` when refused,
 * `{duplicate, offset, ts, epoch, change fields or false, target offset, target fields or false,
 * target state or false}` otherwise (a duplicate's change fields are false when its entry was trimmed).
 */
export const CHANGE_LUA = `${ROOM}${PUSH}${MESSAGE_AT}${REWRITE}
local epoch, head = room(KEYS[1], KEYS[2], KEYS[5], ARGV[5], false, ARGV[17])
local seen = redis.call('GET', KEYS[3]) or redis.call('HGET', KEYS[4], ARGV[1])
if seen then
  local offset, ts = string.match(seen, '^(%d+):(%d+)$')
  local entry = redis.call('XRANGE', KEYS[2], offset .. '-0', offset .. '-0')[1]
  local fields = false
  local target = ARGV[6]
  if entry and entry[2][7] == 'c' then
    fields = entry[2]
    target = fields[8]
  end
  local tf, ts2 = messageAt(KEYS[2], KEYS[6], target)
  return {1, tonumber(offset), tonumber(ts), epoch, fields, tonumber(target), tf, ts2}
end
local target = ARGV[6]
local tf, stored = messageAt(KEYS[2], KEYS[6], target)
if not tf then return {-1, 'not_found', 'missing'} end
local o = {}
if stored then o = cjson.decode(stored) end
if o.d then return {-1, 'not_found', 'deleted'} end
if ARGV[9] == '1' and string.sub(tf[6], 1, #ARGV[8]) ~= ARGV[8] then return {-1, 'forbidden', 'owner'} end
local now = redis.call('TIME')
local ts = tonumber(now[1]) * 1000 + math.floor(tonumber(now[2]) / 1000)
local action = ARGV[7]
if action == 'edit' and tonumber(ARGV[10]) > 0 and ts > tonumber(tf[4]) + tonumber(ARGV[10]) then
  return {-1, 'forbidden', 'window'}
end
local on = false
if action == 'react' then
  local r = o.r or {}
  local emoji, user = ARGV[12], ARGV[16]
  local at, users, mine
  for i, pair in ipairs(r) do
    if pair[1] == emoji then at, users = i, pair[2] end
  end
  if users then
    for j, u in ipairs(users) do
      if u == user then mine = j end
    end
  end
  if ARGV[13] == '' then on = not mine else on = ARGV[13] == '1' end
  if on and not mine then
    if not at then
      if #r >= tonumber(ARGV[11]) then return {-1, 'limit_exceeded', 'reactions'} end
      r[#r + 1] = {emoji, {user}}
    else
      users[#users + 1] = user
    end
  elseif mine and not on then
    table.remove(users, mine)
    if #users == 0 then table.remove(r, at) end
  end
  if #r == 0 then o.r = nil else o.r = r end
elseif action == 'delete' then
  o = {d = 1}
  -- The text and meta leave Redis now, not when the entry is trimmed.
  local draft = cjson.decode(tf[2])
  tf[2] = cjson.encode({id = draft.id, from = draft.from, text = ''})
  rewrite(KEYS[2], target, tf[2])
else
  o.t = ARGV[14]
  if ARGV[15] ~= '' then o.m = ARGV[15] end
  o.e = ts
end
local state = false
if next(o) == nil then
  redis.call('HDEL', KEYS[6], target)
else
  state = cjson.encode(o)
  redis.call('HSET', KEYS[6], target, state)
end
head = head + 1
local fields = {'d', ARGV[2], 't', ts, 'i', ARGV[1], 'c', target}
if action == 'react' then
  fields[9] = 'o'
  fields[10] = on and '1' or '0'
end
push(KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[6], head, ts, fields, ARGV[1], ARGV[3], ARGV[4])
return {0, head, ts, epoch, fields, tonumber(target), tf, state}
`

/**
 * KEYS stream, state hash; ARGV first offset, count. Up to count entries from the first offset, each
 * `{id, fields, state or false, target fields or false, target state or false}` (the target's for a change).
 */
export const AFTER_LUA = `${MESSAGE_AT}
local out = {}
for i, entry in ipairs(redis.call('XRANGE', KEYS[1], ARGV[1] .. '-0', '+', 'COUNT', ARGV[2])) do
  local f = entry[2]
  if f[7] == 'c' then
    local tf, ts = messageAt(KEYS[1], KEYS[2], f[8])
    out[i] = {entry[1], f, false, tf, ts}
  else
    out[i] = {entry[1], f, redis.call('HGET', KEYS[2], string.match(entry[1], '^(%d+)')), false, false}
  end
end
return out
`

/**
 * KEYS stream, state hash; ARGV end ('(offset-0' or '+'), count. The newest `count` messages before the
 * end, changes skipped, newest first, each `{id, fields, state or false}`.
 */
export const BEFORE_LUA = `
local out = {}
local want = tonumber(ARGV[2])
local finish = ARGV[1]
while #out < want do
  local entries = redis.call('XREVRANGE', KEYS[1], finish, '-', 'COUNT', want - #out + 10)
  if #entries == 0 then break end
  for _, entry in ipairs(entries) do
    finish = '(' .. entry[1]
    if entry[2][7] ~= 'c' then
      out[#out + 1] = {entry[1], entry[2], redis.call('HGET', KEYS[2], string.match(entry[1], '^(%d+)'))}
      if #out == want then break end
    end
  end
end
return out
`

/** KEYS meta, reads, read moves; ARGV user, offset. Moves the position (clamped to the head); returns it. */
export const MARK_READ_LUA = `${MOVE_READ}
local head = tonumber(redis.call('HGET', KEYS[1], 'head') or '0')
local offset = math.min(tonumber(ARGV[2]) or 0, head)
if offset <= 0 then return tonumber(redis.call('ZSCORE', KEYS[2], ARGV[1]) or '0') end
return moveRead(KEYS[1], KEYS[2], KEYS[3], ARGV[1], offset)
`

/**
 * KEYS stream, state hash, reads; ARGV user, the user's encoded id followed by '.', positions wanted.
 * Returns `{read, unread, furthest positions as [user, offset, ...]}`: unread counts the retained messages
 * after the position sent by others and not deleted.
 */
export const READ_STATE_LUA = `${FURTHEST}
local read = tonumber(redis.call('ZSCORE', KEYS[3], ARGV[1]) or '0')
local unread = 0
local states = redis.call('HLEN', KEYS[2]) > 0
for _, entry in ipairs(redis.call('XRANGE', KEYS[1], (read + 1) .. '-0', '+')) do
  local f = entry[2]
  if f[7] ~= 'c' and string.sub(f[6] or '', 1, #ARGV[2]) ~= ARGV[2] then
    local stored = states and redis.call('HGET', KEYS[2], string.match(entry[1], '^(%d+)'))
    if not (stored and cjson.decode(stored).d) then unread = unread + 1 end
  end
end
return {read, unread, furthest(KEYS[3], tonumber(ARGV[3]))}
`

/** KEYS reads; ARGV count. The furthest positions as [user, offset, ...]. */
export const READS_LUA = `${FURTHEST}
return furthest(KEYS[1], tonumber(ARGV[1]))
`

/**
 * KEYS conversation hash, index; ARGV patch JSON, new entry JSON or '' (then a
 * missing entry stays missing), now in ms. Applies the patch to the stored entry
 * in one step and returns its JSON, or '' when there is none. Without KEYS[2] (on a cluster, where the
 * index is in another slot) the caller updates the index.
 */
export const UPDATE_CONVERSATION_LUA = `
local stored = redis.call('HGET', KEYS[1], 'e')
local e
if stored then e = cjson.decode(stored) elseif ARGV[2] ~= '' then
  e = cjson.decode(ARGV[2])
  e.createdAt = tonumber(ARGV[3])
  e.lastActivityAt = tonumber(ARGV[3])
else return '' end
local patch = cjson.decode(ARGV[1])
if patch.status then e.status = patch.status end
if patch.assignee ~= nil then e.assignee = patch.assignee end
if patch.visitorName then e.visitor.name = patch.visitorName end
if patch.email then e.visitor.email = patch.email end
if patch.read then e.unread[patch.read] = 0 end
if patch.erase then
  e.visitor.email = nil
  e.preview = ''
end
if patch.preview and e.lastActivityAt == patch.preview.ts then e.preview = patch.preview.text end
local entry = cjson.encode(e)
redis.call('HSET', KEYS[1], 'e', entry)
if KEYS[2] then redis.call('ZADD', KEYS[2], e.lastActivityAt, e.id) end
return entry
`

/** KEYS events hash, order list; ARGV id, event JSON. Queues the event once. */
export const PUSH_EVENT_LUA = `
if redis.call('HSETNX', KEYS[1], ARGV[1], ARGV[2]) == 1 then redis.call('RPUSH', KEYS[2], ARGV[1]) end
return 1
`

/** KEYS events hash, order list, dead list; ARGV id, dead JSON or ''. Removes the event, dead-lettering it when given. */
export const FINISH_EVENT_LUA = `
redis.call('HDEL', KEYS[1], ARGV[1])
redis.call('LREM', KEYS[2], 1, ARGV[1])
if ARGV[2] ~= '' then
  redis.call('LPUSH', KEYS[3], ARGV[2])
  redis.call('LTRIM', KEYS[3], 0, 9999)
end
return 1
`

/** KEYS lease; ARGV owner, ttl ms. Takes the lease if free, renews it if ours. */
export const LEASE_LUA = `
if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then return 1 end
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return 1
end
return 0
`

/**
 * KEYS stream, state hash, reads, read moves; ARGV encoded sender followed by '.', tombstone name, user id.
 * A stream entry cannot be edited in place, so when the room holds any of the sender's
 * entries the stream (at most the history limit long) is rewritten with the
 * same ids, their messages as tombstones (their states dropped) and their changes without their name.
 * Their reactions and read position go too. Returns the offsets of the messages erased.
 */
export const ERASE_LUA = `
local entries = redis.call('XRANGE', KEYS[1], '-', '+')
local erased = {}
local touched = false
local prefix = ARGV[1]
for _, entry in ipairs(entries) do
  if string.sub(entry[2][6] or '', 1, #prefix) == prefix then
    local draft = cjson.decode(entry[2][2])
    local offset = string.match(entry[1], '^(%d+)')
    touched = true
    if entry[2][7] == 'c' then
      draft.from = { id = draft.from.id, name = ARGV[2] }
      entry[2][2] = cjson.encode(draft)
    else
      entry[2][2] = cjson.encode({ id = draft.id, from = { id = draft.from.id, name = ARGV[2] }, text = '' })
      redis.call('HDEL', KEYS[2], offset)
      erased[#erased + 1] = tonumber(offset)
    end
  end
end
local states = redis.call('HGETALL', KEYS[2])
for i = 1, #states, 2 do
  local o = cjson.decode(states[i + 1])
  if o.r then
    local kept, gone = {}, false
    for _, pair in ipairs(o.r) do
      local users = {}
      for _, u in ipairs(pair[2]) do
        if u == ARGV[3] then gone = true else users[#users + 1] = u end
      end
      if #users > 0 then kept[#kept + 1] = {pair[1], users} end
    end
    if gone then
      if #kept == 0 then o.r = nil else o.r = kept end
      if next(o) == nil then redis.call('HDEL', KEYS[2], states[i]) else redis.call('HSET', KEYS[2], states[i], cjson.encode(o)) end
    end
  end
end
redis.call('ZREM', KEYS[3], ARGV[3])
redis.call('ZREM', KEYS[4], ARGV[3])
if not touched then return erased end
redis.call('DEL', KEYS[1])
for _, entry in ipairs(entries) do
  redis.call('XADD', KEYS[1], entry[1], unpack(entry[2]))
end
return erased
`

/**
 * KEYS meta, stream, ids hash, state hash; ARGV cutoff (unix ms). Deletes the stream's
 * oldest entries stored before the cutoff (messages and changes alike), forgets their ids
 * in the hash (the per-id keys keep their window) and their states, and when the stream
 * empties records `base = head`, so the room is empty rather than lost.
 * Returns how many were deleted.
 */
export const EXPIRE_LUA = `
local cutoff = tonumber(ARGV[1])
local removed = 0
while true do
  local entries = redis.call('XRANGE', KEYS[2], '-', '+', 'COUNT', 100)
  if #entries == 0 then break end
  local done = false
  for _, entry in ipairs(entries) do
    if tonumber(entry[2][4]) >= cutoff then
      done = true
      break
    end
    if entry[2][5] == 'i' then redis.call('HDEL', KEYS[3], entry[2][6]) end
    redis.call('HDEL', KEYS[4], string.match(entry[1], '^(%d+)'))
    redis.call('XDEL', KEYS[2], entry[1])
    removed = removed + 1
  end
  if done then break end
end
if removed > 0 and redis.call('XLEN', KEYS[2]) == 0 then
  redis.call('HSET', KEYS[1], 'base', redis.call('HGET', KEYS[1], 'head') or '0')
end
return removed
`
