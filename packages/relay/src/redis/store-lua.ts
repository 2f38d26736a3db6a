// Lua run inside Redis, so reading and changing a room is one atomic step that
// two relay nodes can never interleave. Numbers stay below 2^53 and print as
// integers in Lua 5.1's %.14g up to 10^14, far above any offset or ms clock.

/**
 * Loads the room's epoch and bounds, creating or renewing the epoch.
 * `base` is the offset just before the stream's first entry: the stream should
 * hold `base+1 .. head` (minus trimming), so `head > base` with no stream
 * means the history was lost (eviction, a Redis restart without persistence)
 * and the room gets a new epoch; offsets keep counting up from `head`.
 * A room with neither record nor stream was never written: it has the
 * deployment's epoch for untouched rooms (`shared`, made once) and, unless
 * `write` is set (an append), nothing is stored for it, so reading any name
 * leaves no trace. That key sits outside the room's hash slot: Confab does
 * not run on Redis Cluster.
 */
const ROOM = `
local function room(meta, stream, shared, candidate, write)
  local epoch = redis.call('HGET', meta, 'epoch')
  local head = tonumber(redis.call('HGET', meta, 'head') or '0')
  local base = tonumber(redis.call('HGET', meta, 'base') or '0')
  local length = redis.call('XLEN', stream)
  if not epoch and length == 0 then
    epoch = redis.call('GET', shared)
    if not epoch then
      epoch = candidate
      redis.call('SET', shared, epoch)
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

/** KEYS meta, stream, untouched-room epoch; ARGV candidate epoch. Returns `{epoch, head, length}`. */
export const STATE_LUA = `${ROOM}
local epoch, head, length = room(KEYS[1], KEYS[2], KEYS[3], ARGV[1], false)
return {epoch, head, length}
`

/**
 * KEYS meta, stream, id key, ids hash, untouched-room epoch[, conversation, index]; ARGV scoped id
 * (sender and client id, see `RedisKeys.scopedId`), draft JSON, history
 * limit, idempotency window in ms, candidate epoch.
 * An id is known while its message is retained (the ids hash, trimmed
 * with the stream) and for the window after it was stored (the id key's TTL),
 * whichever is longer. A known id returns `{1, offset, ts, draft JSON or '', epoch}`
 * (the original, nothing written); otherwise the draft is appended with the
 * next offset, the stream trimmed to the limit, the id recorded both ways, and
 * `{0, offset, ts, '', epoch, entry}` returned.
 * In a conversation room (ARGV[6] the sender's side, 'visitor' or 'operator';
 * '' elsewhere) the index entry is updated in the same step: KEYS[6] its hash,
 * KEYS[7] the index; ARGV[7] a new entry's JSON, ARGV[8] the preview, ARGV[9]
 * the visitor's name. `entry` is the updated entry's JSON ('' outside conversations).
 */
export const APPEND_LUA = `${ROOM}
local epoch, head = room(KEYS[1], KEYS[2], KEYS[5], ARGV[5], true)
local seen = redis.call('GET', KEYS[3]) or redis.call('HGET', KEYS[4], ARGV[1])
if seen then
  local offset, ts = string.match(seen, '^(%d+):(%d+)$')
  local entry = redis.call('XRANGE', KEYS[2], offset .. '-0', offset .. '-0')
  local draft = ''
  if entry[1] then draft = entry[1][2][2] end
  return {1, tonumber(offset), tonumber(ts), draft, epoch}
end
local now = redis.call('TIME')
local ts = tonumber(now[1]) * 1000 + math.floor(tonumber(now[2]) / 1000)
head = head + 1
redis.call('XADD', KEYS[2], head .. '-0', 'd', ARGV[2], 't', ts, 'i', ARGV[1])
local excess = redis.call('XLEN', KEYS[2]) - tonumber(ARGV[3])
if excess > 0 then
  for _, entry in ipairs(redis.call('XRANGE', KEYS[2], '-', '+', 'COUNT', excess)) do
    if entry[2][5] == 'i' then redis.call('HDEL', KEYS[4], entry[2][6]) end
  end
  redis.call('XTRIM', KEYS[2], 'MAXLEN', ARGV[3])
end
redis.call('HSET', KEYS[1], 'head', head)
local record = head .. ':' .. ts
redis.call('HSET', KEYS[4], ARGV[1], record)
redis.call('SET', KEYS[3], record, 'PX', ARGV[4])
local entry = ''
if ARGV[6] ~= '' then
  local stored = redis.call('HGET', KEYS[6], 'e')
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
  redis.call('HSET', KEYS[6], 'e', entry)
  redis.call('ZADD', KEYS[7], ts, e.id)
end
return {0, head, ts, '', epoch, entry}
`

/**
 * KEYS conversation hash, index; ARGV patch JSON, new entry JSON or '' (then a
 * missing entry stays missing), now in ms. Applies the patch to the stored entry
 * in one step and returns its JSON, or '' when there is none.
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
local entry = cjson.encode(e)
redis.call('HSET', KEYS[1], 'e', entry)
redis.call('ZADD', KEYS[2], e.lastActivityAt, e.id)
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
 * KEYS stream; ARGV encoded sender followed by '.', tombstone name. A stream
 * entry cannot be edited in place, so when the room holds any of the sender's
 * messages the stream (at most the history limit long) is rewritten with the
 * same ids, theirs as tombstones. Returns the offsets erased.
 */
export const ERASE_LUA = `
local entries = redis.call('XRANGE', KEYS[1], '-', '+')
local erased = {}
local prefix = ARGV[1]
for _, entry in ipairs(entries) do
  if string.sub(entry[2][6] or '', 1, #prefix) == prefix then
    local draft = cjson.decode(entry[2][2])
    entry[2][2] = cjson.encode({ id = draft.id, from = { id = draft.from.id, name = ARGV[2] }, text = '' })
    erased[#erased + 1] = tonumber(string.match(entry[1], '^(%d+)'))
  end
end
if #erased == 0 then return erased end
redis.call('DEL', KEYS[1])
for _, entry in ipairs(entries) do
  redis.call('XADD', KEYS[1], entry[1], unpack(entry[2]))
end
return erased
`

/**
 * KEYS meta, stream, ids hash; ARGV cutoff (unix ms). Deletes the stream's
 * oldest entries stored before the cutoff (fields d, t, i), forgets their ids
 * in the hash (the per-id keys keep their window), and when the stream
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
