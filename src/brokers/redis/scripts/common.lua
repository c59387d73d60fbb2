-- common.lua: helpers shared by every repid script. The loader prepends this file to each
-- script before SCRIPT LOAD, so it declares no KEYS or ARGV of its own.
--
-- Stored message (one field of the queue's `msg` hash, keyed by message id):
--   <seq>|<priority 0-2>|<attempt>|<stalls>|<executeAt or empty>|<body>
-- The body is opaque here (the client encodes and decodes it). `seq` is the original enqueue
-- order, kept for life so that a requeued or recovered message returns to its place.
-- Ready score: priority * 2^44 + seq (exact in a double: both parts stay below 2^53).
-- Dead letter (one element of the queue's `dead` list): cjson [id, failedAt, errorJson, stored|false].
-- Lease (one field of the `lease` hash): the delivery's token, `<call>.<n>` or, when a named
-- consumer took it, `<call>.<n>@<consumer>`: the holder costs nothing extra to record.
--
-- Queue clock. Lease deadlines (`running` scores) and heartbeat expiries (`consumers` scores) are
-- kept in queue time: Redis time minus the queue's `credit`, the time during which no script at
-- all ran on the queue beyond STALL_MS at a stretch. Live consumers touch their queues at least
-- every second (heartbeats, receive rounds), so a longer silence means Redis served nobody
-- (CLIENT PAUSE, a restart, a full stop of the network): that time does not count against the
-- leases and heartbeats, and nobody loses a job to a stall of Redis itself. Delayed messages
-- (`delayed` scores) stay in Redis time: a due time is a promise to the user.

local PRIO_UNIT = 17592186044416
local HEADER = '^(%d+)|([012])|(%d+)|(%d+)|(%d*)|()'
local STALL_MS = 1000

-- Redis server time in epoch ms: one clock for every lease and delay, whatever the clients' skew.
local function now_ms()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end

-- Touches the queue's clock; returns queue time and the credit (queue time = now - credit).
local function queue_clock(key, now)
  local c = redis.call('HMGET', key, 'at', 'credit')
  local at = tonumber(c[1])
  local credit = tonumber(c[2]) or 0
  if at and now - at > STALL_MS then credit = credit + (now - at - STALL_MS) end
  if at ~= now then redis.call('HSET', key, 'at', now, 'credit', credit) end
  return now - credit, credit
end

local function bury(dead, max_dead, id, stored, error_json, now)
  redis.call('RPUSH', dead, cjson.encode({ id, now, error_json, stored or false }))
  redis.call('LTRIM', dead, -max_dead, -1)
end

-- A message whose stored form cannot be read (or is gone: evicted), out of every structure and
-- into the dead letters.
local function malformed(msg, lease, dead, max_dead, id, stored, now)
  redis.call('HDEL', msg, id)
  redis.call('HDEL', lease, id)
  local reason
  if stored then
    reason = { name = 'MalformedMessageError', code = 'MALFORMED',
      message = 'Stored message could not be decoded' }
  else
    reason = { name = 'MessageEvictedError', code = 'EVICTED',
      message = 'message body missing: evicted? (set maxmemory-policy noeviction)' }
  end
  bury(dead, max_dead, id, stored, cjson.encode(reason), now)
  return stored and 0 or 1
end

local function wake(notify)
  if redis.call('LLEN', notify) == 0 then
    redis.call('RPUSH', notify, '1')
  end
end

-- The consumer a lease token names, or nil.
local function holder_of(token)
  local at = string.find(token, '@', 1, true)
  if at then return string.sub(token, at + 1) end
  return nil
end

-- A lease ended without a settlement (expired, or its holder's heartbeat did): ready again with
-- stalls + 1, or dead-lettered STALLED past max_stalls. `why` says which for the dead letter.
-- Returns 1 when the message was gone (evicted), else 0.
local function stall(k, max_stalls, max_dead, id, now, why)
  redis.call('ZREM', k.running, id)
  redis.call('HDEL', k.lease, id)
  local stored = redis.call('HGET', k.msg, id)
  local seq, prio, attempt, stalls, at, pos
  if stored then seq, prio, attempt, stalls, at, pos = string.match(stored, HEADER) end
  if not seq then
    redis.call('HDEL', k.sched, id)
    return malformed(k.msg, k.lease, k.dead, max_dead, id, stored, now)
  end
  local n = tonumber(stalls) + 1
  local renewed = seq .. '|' .. prio .. '|' .. attempt .. '|' .. n .. '|' .. at .. '|' .. string.sub(stored, pos)
  if n > max_stalls then
    redis.call('HDEL', k.msg, id)
    redis.call('HDEL', k.sched, id)
    bury(k.dead, max_dead, id, renewed, cjson.encode({
      name = 'StalledError',
      code = 'STALLED',
      message = why .. ' ' .. n .. ' times without the message being settled (worker crashed or hung)',
    }), now)
  else
    redis.call('HSET', k.msg, id, renewed)
    redis.call('ZADD', k.ready, tonumber(prio) * PRIO_UNIT + tonumber(seq), id)
  end
  return 0
end

-- The 10 state keys every consumer-side script receives first, by name.
local function state_keys(first)
  return {
    msg = KEYS[first], lease = KEYS[first + 1], ready = KEYS[first + 2],
    delayed = KEYS[first + 3], running = KEYS[first + 4], dead = KEYS[first + 5],
    notify = KEYS[first + 6], sched = KEYS[first + 7], consumers = KEYS[first + 8],
    clock = KEYS[first + 9],
  }
end

-- Housekeeping of one queue: promotes due delayed messages, recovers expired leases and the
-- leases of consumers whose heartbeat expired. Returns the number of evicted bodies met.
local function housekeep(k, now, qnow, max_stalls, max_dead, limit)
  local evicted = 0
  local due = redis.call('ZRANGEBYSCORE', k.delayed, '-inf', now, 'LIMIT', 0, limit)
  for _, id in ipairs(due) do
    redis.call('ZREM', k.delayed, id)
    local stored = redis.call('HGET', k.msg, id)
    local seq, prio
    if stored then seq, prio = string.match(stored, '^(%d+)|([012])|') end
    if seq then
      redis.call('ZADD', k.ready, tonumber(prio) * PRIO_UNIT + tonumber(seq), id)
    else
      redis.call('HDEL', k.sched, id)
      evicted = evicted + malformed(k.msg, k.lease, k.dead, max_dead, id, stored, now)
    end
  end

  local expired = redis.call('ZRANGEBYSCORE', k.running, '-inf', qnow, 'LIMIT', 0, limit)
  for _, id in ipairs(expired) do
    evicted = evicted + stall(k, max_stalls, max_dead, id, now, 'Lease expired')
  end

  -- Consumers whose heartbeat expired: their records go, and every lease they hold ends now.
  local gone = redis.call('ZRANGEBYSCORE', k.consumers, '-inf', qnow, 'LIMIT', 0, limit)
  if #gone > 0 then
    local dead_set = {}
    for _, c in ipairs(gone) do
      dead_set[c] = true
      redis.call('ZREM', k.consumers, c)
    end
    local held = redis.call('HGETALL', k.lease)
    for i = 1, #held, 2 do
      local c = holder_of(held[i + 1])
      if c and dead_set[c] then
        evicted = evicted + stall(k, max_stalls, max_dead, held[i], now, 'Heartbeat of its consumer expired')
      end
    end
  end
  return evicted
end

-- Earliest time (Redis time) something changes by itself in the queue: a delayed message due, a
-- lease deadline, the heartbeat expiry of a consumer while leases are held. nil when none.
local function next_change(k, credit)
  local next_at = nil
  local d = redis.call('ZRANGE', k.delayed, 0, 0, 'WITHSCORES')
  if d[2] then next_at = tonumber(d[2]) end
  local r = redis.call('ZRANGE', k.running, 0, 0, 'WITHSCORES')
  if r[2] then
    local at = tonumber(r[2]) + credit
    if next_at == nil or at < next_at then next_at = at end
    local c = redis.call('ZRANGE', k.consumers, 0, 0, 'WITHSCORES')
    if c[2] then
      at = tonumber(c[2]) + credit
      if at < next_at then next_at = at end
    end
  end
  return next_at
end

-- Settle/receive memo keys keep the outcome of one call for a while, so that a call ioredis
-- sends again after a reconnection (its first reply lost) answers as the first one did.
local MEMO_MS = 60000
