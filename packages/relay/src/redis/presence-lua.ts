// Presence bookkeeping as Lua, so "is this the user's first/last node in the
// room" is decided atomically across nodes. Fields of the members hash are
// `node/user`; node ids are checked to be [A-Za-z0-9_.-], so `node/*` is a
// safe HSCAN pattern and the user part after the first '/' is taken verbatim.

// The member index (a sorted set of user ids) and info (user -> JSON) hold
// exactly the users of the member-nodes hash: they give the count (ZCARD) and
// the pages (ZRANGEBYLEX) without reading every entry.

// On a Redis Cluster a script may touch one slot only, and the node-wide keys
// (node-rooms, alive, nodes) are in other slots than the room's: there the
// caller passes '1' as the last ARGV ("split"), one of the room's keys in
// place of each node-wide key, and makes the node-wide change itself (see
// RedisPresence).

/**
 * KEYS members, member-nodes, node-rooms, member index, member info; ARGV node, user, member JSON,
 * encoded room, split. 1 when the user is new to the room.
 */
export const ADD_LUA = `
local added = redis.call('HSET', KEYS[1], ARGV[1] .. '/' .. ARGV[2], ARGV[3])
if ARGV[5] ~= '1' then redis.call('SADD', KEYS[3], ARGV[4]) end
redis.call('HSET', KEYS[5], ARGV[2], ARGV[3])
if added == 0 then return 0 end
if redis.call('HINCRBY', KEYS[2], ARGV[2], 1) == 1 then
  redis.call('ZADD', KEYS[4], 0, ARGV[2])
  return 1
end
return 0
`

/**
 * KEYS members, member-nodes, node-rooms, member index, member info; ARGV node, user, encoded room,
 * '1' when it was the node's last member in the room, split. 1 when the user is now
 * in the room on no node.
 */
export const REMOVE_LUA = `
if ARGV[4] == '1' and ARGV[5] ~= '1' then redis.call('SREM', KEYS[3], ARGV[3]) end
if redis.call('HDEL', KEYS[1], ARGV[1] .. '/' .. ARGV[2]) == 0 then return 0 end
if redis.call('HINCRBY', KEYS[2], ARGV[2], -1) > 0 then return 0 end
redis.call('HDEL', KEYS[2], ARGV[2])
redis.call('ZREM', KEYS[4], ARGV[2])
redis.call('HDEL', KEYS[5], ARGV[2])
return 1
`

/** KEYS alive, nodes; ARGV node, TTL in ms, split. Refreshes the node's liveness; 1 when the key still existed. */
export const HEARTBEAT_LUA = `
local existed = redis.call('EXISTS', KEYS[1])
redis.call('SET', KEYS[1], '1', 'PX', ARGV[2])
if ARGV[3] ~= '1' then redis.call('SADD', KEYS[2], ARGV[1]) end
return existed
`

/**
 * KEYS members, member-nodes, dead node's alive, dead node's rooms, member index, member info; ARGV dead
 * node, encoded room, split. Removes the dead node's entries in the room and returns
 * the member JSON of users now in the room on no node. Does nothing if the
 * node came back, so a sweep cannot undo a node's re-registration (split: the caller checks just before).
 */
export const SWEEP_ROOM_LUA = `
if ARGV[3] ~= '1' and redis.call('EXISTS', KEYS[3]) == 1 then return {} end
local prefix = ARGV[1] .. '/'
local gone = {}
local cursor = '0'
repeat
  local page = redis.call('HSCAN', KEYS[1], cursor, 'MATCH', prefix .. '*', 'COUNT', 256)
  cursor = page[1]
  local items = page[2]
  for i = 1, #items, 2 do
    if redis.call('HDEL', KEYS[1], items[i]) == 1 then
      local user = string.sub(items[i], #prefix + 1)
      if redis.call('HINCRBY', KEYS[2], user, -1) <= 0 then
        redis.call('HDEL', KEYS[2], user)
        redis.call('ZREM', KEYS[5], user)
        redis.call('HDEL', KEYS[6], user)
        table.insert(gone, items[i + 1])
      end
    end
  end
until cursor == '0'
if ARGV[3] ~= '1' then redis.call('SREM', KEYS[4], ARGV[2]) end
return gone
`

/** KEYS dead node's alive, dead node's rooms, nodes; ARGV node. Forgets a dead node once its rooms are swept. */
export const FORGET_LUA = `
if redis.call('EXISTS', KEYS[1]) == 1 or redis.call('EXISTS', KEYS[2]) == 1 then return 0 end
return redis.call('SREM', KEYS[3], ARGV[1])
`

/**
 * KEYS member index, member info; ARGV the id to start after ('' from the start), page size.
 * Up to `size` + 1 pairs of user id and member JSON, ordered by id (the extra one says there is more).
 */
export const PAGE_LUA = `
local from = '-'
if ARGV[1] ~= '' then from = '(' .. ARGV[1] end
local ids = redis.call('ZRANGEBYLEX', KEYS[1], from, '+', 'LIMIT', 0, tonumber(ARGV[2]) + 1)
if #ids == 0 then return {} end
local infos = redis.call('HMGET', KEYS[2], unpack(ids))
local out = {}
for i = 1, #ids do
  table.insert(out, ids[i])
  table.insert(out, infos[i] or '')
end
return out
`
