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
-- The design (keys, message states, queue clock, fencing, memos): docs/redis-design.md

local PRIO_UNIT = 17592186044416
local HEADER = '^(%d+)|([012])|(%d+)|(%d+)|(%d*)|()'
-- The same shape without captures: a check that allocates no strings.
local HEADER_SHAPE = '^%d+|[012]|%d+|%d+|%d*|'
local STALL_MS = 1000

-- Redis server time in epoch ms: one clock for every lease and delay, whatever the clients' skew.
local function now_ms()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end

-- Touches the queue's clock; returns queue time, the credit (queue time = now - credit), the
-- number of topics with limits (`lt`, see limits.lua) and whether an operator paused the queue
-- (read here, with the clock, rather than by a command of its own).
local function queue_clock(key, now)
  local c = redis.call('HMGET', key, 'at', 'credit', 'lt', 'paused')
  local at = tonumber(c[1])
  local credit = tonumber(c[2]) or 0
  if at and now - at > STALL_MS then credit = credit + (now - at - STALL_MS) end
  if at ~= now then redis.call('HSET', key, 'at', now, 'credit', credit) end
  return now - credit, credit, tonumber(c[3]) or 0, c[4] == '1'
end

local function bury(dead, max_dead, id, stored, error_json, now)
  redis.call('RPUSH', dead, cjson.encode({ id, now, error_json, stored or false }))
  redis.call('LTRIM', dead, -max_dead, -1)
end

-- Cancel marks of running messages (`cancel:<id>` in the clock hash, set by admin-cancel.lua)
-- are counted in `cancels`, so that settlements look for marks only while some exist.
local function cancel_marks(clock)
  return tonumber(redis.call('HGET', clock, 'cancels')) or 0
end

-- Removes the cancel mark of `id`; returns 1 when there was one.
local function clear_cancel(clock, id)
  if redis.call('HDEL', clock, 'cancel:' .. id) == 0 then return 0 end
  if redis.call('HINCRBY', clock, 'cancels', -1) <= 0 then redis.call('HDEL', clock, 'cancels') end
  return 1
end

-- A message whose stored form cannot be read (or is gone: evicted), out of every structure and
-- into the dead letters; an operator's cancel mark goes with it.
local function malformed(k, max_dead, id, stored, now)
  redis.call('HDEL', k.msg, id)
  redis.call('HDEL', k.lease, id)
  if cancel_marks(k.clock) > 0 then clear_cancel(k.clock, id) end
  local reason
  if stored then
    reason = { name = 'MalformedMessageError', code = 'MALFORMED',
      message = 'Stored message could not be decoded' }
  else
    reason = { name = 'MessageEvictedError', code = 'EVICTED',
      message = 'message body missing: evicted? (set maxmemory-policy noeviction)' }
  end
  bury(k.dead, max_dead, id, stored, cjson.encode(reason), now)
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

-- Sends `cmd key args...` with `args` cut into slices of at most `step` (unpack's stack limit);
-- `step` even for field-value or score-member pairs. One command for many messages costs a
-- fraction of one command per message (each redis.call from Lua has its own overhead).
local SPREAD = 1000
local function call_spread(cmd, key, args, step)
  for i = 1, #args, step do
    redis.call(cmd, key, unpack(args, i, math.min(i + step - 1, #args)))
  end
end

-- HMGET of `fields` (any number of them) from hash `key`, in slices of SPREAD: the values in
-- the fields' order, false for a missing one.
local function hmget_spread(key, fields)
  local values = {}
  for i = 1, #fields, SPREAD do
    local part = redis.call('HMGET', key, unpack(fields, i, math.min(i + SPREAD - 1, #fields)))
    for j = 1, #part do values[i + j - 1] = part[j] end
  end
  return values
end

-- Frees the limit slot a lease held (defined in limits.lua, which the loader appends).
local lease_ended

-- A lease ended without a settlement (expired, or its holder's heartbeat did): ready again with
-- stalls + 1, or dead-lettered STALLED past max_stalls. `why` says which for the dead letter.
-- Returns 1 when the message was gone (evicted), else 0.
local function stall(k, max_stalls, max_dead, id, now, why)
  redis.call('ZREM', k.running, id)
  redis.call('HDEL', k.lease, id)
  lease_ended(k, id, now)
  local stored = redis.call('HGET', k.msg, id)
  local seq, prio, attempt, stalls, at, pos
  if stored then seq, prio, attempt, stalls, at, pos = string.match(stored, HEADER) end
  if not seq then
    redis.call('HDEL', k.sched, id)
    return malformed(k, max_dead, id, stored, now)
  end
  local n = tonumber(stalls) + 1
  local renewed = seq .. '|' .. prio .. '|' .. attempt .. '|' .. n .. '|' .. at .. '|' .. string.sub(stored, pos)
  if n > max_stalls then
    redis.call('HDEL', k.msg, id)
    redis.call('HDEL', k.sched, id)
    if cancel_marks(k.clock) > 0 then clear_cancel(k.clock, id) end
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

-- The STATE_N state keys every consumer-side script receives first, by name.
local STATE_N = 13
local function state_keys(first)
  return {
    msg = KEYS[first], lease = KEYS[first + 1], ready = KEYS[first + 2],
    delayed = KEYS[first + 3], running = KEYS[first + 4], dead = KEYS[first + 5],
    notify = KEYS[first + 6], sched = KEYS[first + 7], consumers = KEYS[first + 8],
    clock = KEYS[first + 9],
    fresh = { KEYS[first + 10], KEYS[first + 11], KEYS[first + 12] },
  }
end

-- Ready messages live in two places. Fresh immediate messages wait in one list per priority
-- (`fresh`, in seq order: the enqueue script appends them under the seq it takes), at a third of
-- the memory of a sorted-set member; messages that come back to an earlier place (requeued,
-- recovered, promoted from delayed, periodic, replayed) wait in the `ready` sorted set by
-- priority and seq. Consumers take the smallest (priority, seq) of both, so strict priority and
-- FIFO within a priority hold as with one sorted set. A fresh message removed or moved while
-- waiting (admin cancel, replaced by a periodic definition) cannot leave its list in O(1): its
-- entry is voided instead (`void:<list>:<id>` in the clock hash counts such entries, `voids`
-- counts them all), and the consumer that pops a voided entry drops it. Marks are per list, and a
-- list is FIFO, so a voided entry is always popped before a later live entry of the same id.

-- Number of ready messages.
local function ready_size(k)
  local voids = tonumber(redis.call('HGET', k.clock, 'voids')) or 0
  return redis.call('ZCARD', k.ready) + redis.call('LLEN', k.fresh[1])
    + redis.call('LLEN', k.fresh[2]) + redis.call('LLEN', k.fresh[3]) - voids
end

-- Whether any message is ready (cheaper than `ready_size` when none was voided).
local function has_ready(k)
  if (tonumber(redis.call('HGET', k.clock, 'voids')) or 0) > 0 then return ready_size(k) > 0 end
  return redis.call('LLEN', k.fresh[2]) > 0 or redis.call('ZCARD', k.ready) > 0
    or redis.call('LLEN', k.fresh[1]) > 0 or redis.call('LLEN', k.fresh[3]) > 0
end

-- Voids the entry of `id` in fresh list `list` (1-3).
local function void_fresh(clock, list, id)
  redis.call('HINCRBY', clock, 'void:' .. list .. ':' .. id, 1)
  redis.call('HINCRBY', clock, 'voids', 1)
end

-- True (and one mark used up) when the entry of `id` just popped from fresh list `list` was voided.
local function drop_voided(clock, list, id)
  local key = 'void:' .. list .. ':' .. id
  local marks = tonumber(redis.call('HGET', clock, key))
  if not marks then return false end
  if marks <= 1 then redis.call('HDEL', clock, key) else redis.call('HINCRBY', clock, key, -1) end
  redis.call('HINCRBY', clock, 'voids', -1)
  return true
end

-- Head of the first non-empty fresh list: id, priority (0-2) and rank (priority * PRIO_UNIT +
-- seq), or nil. A head without a readable body ranks first: it is dealt with at once.
local function fresh_head(k)
  for p = 1, 3 do
    local id = redis.call('LINDEX', k.fresh[p], 0)
    if id then
      local stored = redis.call('HGET', k.msg, id)
      local seq = stored and tonumber(string.match(stored, '^(%d+)|'))
      return id, p - 1, (p - 1) * PRIO_UNIT + (seq or 0)
    end
  end
  return nil
end

-- Pops up to `max` ids in (priority, seq) order out of both places, voided entries included,
-- appending { id, list } (from fresh list `list`, 1-3) or { id, false, score } (from `ready`).
local function pop_ready(k, max, taken)
  local goal = #taken + max
  if redis.call('ZCARD', k.ready) == 0 then
    for p = 1, 3 do
      local need = goal - #taken
      if need <= 0 then break end
      local ids = redis.call('LPOP', k.fresh[p], need)
      if ids then
        for _, id in ipairs(ids) do taken[#taken + 1] = { id, p } end
      end
    end
    return
  end
  while #taken < goal do
    local z = redis.call('ZRANGE', k.ready, 0, 0, 'WITHSCORES')
    local z_rank = z[2] and tonumber(z[2])
    local f_id, f_prio, f_rank = fresh_head(k)
    if z_rank and (not f_id or z_rank < f_rank) then
      redis.call('ZREM', k.ready, z[1])
      taken[#taken + 1] = { z[1], false, z[2] }
    elseif f_id then
      redis.call('LPOP', k.fresh[f_prio + 1])
      taken[#taken + 1] = { f_id, f_prio + 1 }
    else
      return
    end
  end
end

-- Voided entries dropped by one take at most, beyond what it takes (bounds the script's time).
local VOID_DROPS = 1000

-- Takes up to `max` ready ids in (priority, seq) order, as `pop_ready` lists them, voided
-- entries dropped (and others taken in their place).
local function take_ready(k, max)
  local taken = {}
  if (tonumber(redis.call('HGET', k.clock, 'voids')) or 0) <= 0 then
    pop_ready(k, max, taken)
    return taken
  end
  local dropped = 0
  while #taken < max and dropped < VOID_DROPS do
    local batch = {}
    pop_ready(k, max - #taken, batch)
    if #batch == 0 then break end
    for _, t in ipairs(batch) do
      if t[2] and drop_voided(k.clock, t[2], t[1]) then
        dropped = dropped + 1
      else
        taken[#taken + 1] = t
      end
    end
  end
  return taken
end

-- Puts ids taken by `take_ready` back where they were, in their places.
local function untake(k, taken)
  for i = #taken, 1, -1 do
    local t = taken[i]
    if t[2] then
      redis.call('LPUSH', k.fresh[t[2]], t[1])
    else
      redis.call('ZADD', k.ready, t[3], t[1])
    end
  end
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
      evicted = evicted + malformed(k, max_dead, id, stored, now)
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

-- Deletes the memos of answered calls that a call brings as its last `m` KEYS (the client
-- sends them once their replies came back: nothing sends those calls again).
local function drop_spent(m)
  if m and m > 0 then redis.call('DEL', unpack(KEYS, #KEYS - m + 1, #KEYS)) end
end
