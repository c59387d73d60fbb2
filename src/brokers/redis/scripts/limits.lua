-- limits.lua: concurrency and rate limits of topics across every consumer (see the broker
-- contract's `declareLimits`). The loader prepends this file, after common.lua, to every script.
--
-- Keys, all under the queue's hash tag (`<base>` is the queue's key prefix, `<prefix>:{q}:`):
--   <base>limits   hash topic -> JSON { c = slots, ck = key path, r = starts, rw = window ms,
--                  rk = key path } (fields absent when unused); the clock hash's `lt` counts them
--   <base>gq:<g>   zset: messages parked in group g (score priority * 2^44 + seq, as `ready`)
--   <base>gr:<g>   set: ids of the leases group g holds (its concurrency slots)
--   <base>gl:<g>   zset: lease tokens taken in group g by Redis time (its rate window), PX'ed
--   <base>gof      hash id -> concurrency group of a leased message (to free its slot)
--   <base>gpark    hash id -> reason ('c' slots, 'r' rate) .. group where it is parked
--   <base>gout     hash group -> the one message it released into `ready` (see `release`)
--   <base>gdelay   zset group -> Redis time its rate window lets the next start in
--   <base>gparked  set of groups that have parked messages (for flush and re-declaration)
--   <base>gcount   hash topic -> number of its parked messages (for counts)
--
-- A group is `<kind>:<#topic>:<topic>:<key>`: kind 'c' (concurrency), 'r' (rate) or 'b' (both
-- limits with the same key path). A message is checked (`gate`) when it is about to be leased:
-- it passes, or it is parked in the group that holds it. A group keeps at most one of its
-- messages released in `ready`, at a new place behind everything ready then (a fresh seq), so
-- groups with work take turns; when a slot frees or its window allows, it releases the next.

-- Messages a receive round may park before it answers with what it took (bounds its time).
local LIMIT_SCAN = 1000

local lim_cfg = {}
local lim_b = nil

local function lim_base(k)
  if not lim_b then lim_b = string.sub(k.msg, 1, #k.msg - 3) end
  return lim_b
end

local function group_id(kind, topic, key)
  return kind .. ':' .. #topic .. ':' .. topic .. ':' .. key
end

-- kind, topic, key of a group id.
local function group_parts(gid)
  local kind, len, at = string.match(gid, '^(%a):(%d+):()')
  if not kind then return nil end
  len = tonumber(len)
  return kind, string.sub(gid, at, at + len - 1), string.sub(gid, at + len + 1)
end

-- The limits of a topic (decoded once per call), or false.
local function limits_of(k, topic)
  local cfg = lim_cfg[topic]
  if cfg == nil then
    local raw = redis.call('HGET', lim_base(k) .. 'limits', topic)
    cfg = false
    if raw then
      local ok, v = pcall(cjson.decode, raw)
      if ok and type(v) == 'table' then cfg = v end
    end
    lim_cfg[topic] = cfg
  end
  return cfg
end

-- The rate window: the declared one plus a grace (a tenth, at most 100 ms) so that starts as the
-- workers see them (a few ms after the lease) keep within the limit too.
local function rate_window(cfg)
  return cfg.rw + math.min(100, math.floor(cfg.rw / 10))
end

-- The string or number at a dotted path of a decoded payload, as text; '' when none.
local function key_in(value, path)
  for part in string.gmatch(path, '[^.]+') do
    if type(value) ~= 'table' then return '' end
    value = value[part]
  end
  if type(value) == 'string' then return value end
  if type(value) == 'number' then
    if value == math.floor(value) and math.abs(value) < 2 ^ 53 then
      return string.format('%d', value)
    end
    return tostring(value)
  end
  return ''
end

-- topic, limits, concurrency group, rate group of a stored message; nil when its topic has no
-- limits (or the message cannot be read: it is then dealt with as any other).
local function message_groups(k, stored)
  local pos = select(6, string.match(stored, HEADER))
  if not pos then return nil end
  local nl = string.find(stored, '\n', pos, true)
  if not nl then return nil end
  -- The topic is the meta array's first string: read as is when it has no escapes.
  local topic = string.match(stored, '^%["([^"\\]*)",', pos)
  if not topic then
    local ok, meta = pcall(cjson.decode, string.sub(stored, pos, nl - 1))
    if not ok or type(meta) ~= 'table' or type(meta[1]) ~= 'string' then return nil end
    topic = meta[1]
  end
  local cfg = limits_of(k, topic)
  if not cfg then return nil end
  local payload = nil
  local function key(path)
    if not path then return '' end
    if payload == nil then
      local good, v = pcall(cjson.decode, string.sub(stored, nl + 1))
      payload = good and v or false
    end
    return key_in(payload, path)
  end
  local gc, gr
  if cfg.c and cfg.r and cfg.ck == cfg.rk then
    gc = group_id('b', topic, key(cfg.ck))
    gr = gc
  else
    if cfg.c then gc = group_id('c', topic, key(cfg.ck)) end
    if cfg.r then gr = group_id('r', topic, key(cfg.rk)) end
  end
  return topic, cfg, gc, gr
end

-- True when group g holds `slots` leases or more. Ids whose lease is gone (a path that ended a
-- lease without freeing its slot) are dropped first, so a slot is never lost for good.
local function slots_full(k, g, slots)
  local set = lim_base(k) .. 'gr:' .. g
  if redis.call('SCARD', set) < slots then return false end
  for _, id in ipairs(redis.call('SMEMBERS', set)) do
    if redis.call('HEXISTS', k.lease, id) == 0 then redis.call('SREM', set, id) end
  end
  return redis.call('SCARD', set) >= slots
end

-- nil when group g may start one more now, else the Redis time it may.
local function rate_wait(k, g, cfg, now)
  local log = lim_base(k) .. 'gl:' .. g
  local window = rate_window(cfg)
  redis.call('ZREMRANGEBYSCORE', log, '-inf', now - window)
  if redis.call('ZCARD', log) < cfg.r then return nil end
  local first = redis.call('ZRANGE', log, 0, 0, 'WITHSCORES')
  return tonumber(first[2]) + window
end

local function unpark_count(k, topic)
  local counts = lim_base(k) .. 'gcount'
  if redis.call('HINCRBY', counts, topic, -1) <= 0 then redis.call('HDEL', counts, topic) end
end

local function park(k, g, reason, id, rank, topic)
  local b = lim_base(k)
  redis.call('ZADD', b .. 'gq:' .. g, rank, id)
  redis.call('HSET', b .. 'gpark', id, reason .. g)
  redis.call('SADD', b .. 'gparked', g)
  redis.call('HINCRBY', b .. 'gcount', topic, 1)
end

-- Clears group g's released message when it is `id`.
local function clear_out(k, g, id)
  if g and redis.call('HGET', lim_base(k) .. 'gout', g) == id then
    redis.call('HDEL', lim_base(k) .. 'gout', g)
    return true
  end
  return false
end

-- Set by a script that wakes consumers itself at its end (receive.lua): releases then skip it.
local lim_quiet = false

-- Releases group g's first parked message into `ready`, behind everything ready now, when the
-- group has none released there yet and its limits allow one more; a rate window that does not
-- is noted in `gdelay` (the receive script releases when it is due).
local function release(k, g, now, no_out)
  local b = lim_base(k)
  local out = not no_out and redis.call('HGET', b .. 'gout', g)
  if out then
    if redis.call('ZSCORE', k.ready, out) then return end
    redis.call('HDEL', b .. 'gout', g)
  end
  local q = b .. 'gq:' .. g
  local head = redis.call('ZRANGE', q, 0, 0, 'WITHSCORES')
  if not head[1] then return end
  local kind, topic = group_parts(g)
  local cfg = limits_of(k, topic)
  if cfg then
    if kind ~= 'r' and cfg.c and slots_full(k, g, cfg.c) then return end
    if kind ~= 'c' and cfg.r then
      local at = rate_wait(k, g, cfg, now)
      if at then
        redis.call('ZADD', b .. 'gdelay', 'LT', at, g)
        return
      end
    end
  end
  local id = head[1]
  redis.call('ZREM', q, id)
  if redis.call('ZCARD', q) == 0 then redis.call('SREM', b .. 'gparked', g) end
  redis.call('HDEL', b .. 'gpark', id)
  unpark_count(k, topic)
  local prio = math.floor(tonumber(head[2]) / PRIO_UNIT)
  redis.call('ZADD', k.ready, prio * PRIO_UNIT + redis.call('INCR', b .. 'seq'), id)
  redis.call('HSET', b .. 'gout', g, id)
  if not lim_quiet then wake(k.notify) end
end

-- Releases the groups whose rate window allowed a start by now.
local function release_due(k, now, limit)
  local gdelay = lim_base(k) .. 'gdelay'
  local due = redis.call('ZRANGEBYSCORE', gdelay, '-inf', now, 'LIMIT', 0, limit)
  for _, g in ipairs(due) do
    redis.call('ZREM', gdelay, g)
    release(k, g, now)
  end
end

-- Earliest Redis time a rate window lets a parked message go, or nil.
local function next_release(k)
  local first = redis.call('ZRANGE', lim_base(k) .. 'gdelay', 0, 0, 'WITHSCORES')
  return first[2] and tonumber(first[2]) or nil
end

-- Checks a message about to be leased under `token`: true when it may be (its slot and start
-- are then counted), false when it was parked in the group that holds it.
local function gate(k, id, stored, token, now)
  local topic, cfg, gc, gr = message_groups(k, stored)
  if not topic then return true end
  local seq, prio = string.match(stored, '^(%d+)|([012])|')
  local rank = tonumber(prio) * PRIO_UNIT + tonumber(seq)
  local b = lim_base(k)
  if gc and slots_full(k, gc, cfg.c) then
    clear_out(k, gc, id)
    if gr ~= gc then clear_out(k, gr, id) end
    park(k, gc, 'c', id, rank, topic)
    return false
  end
  if gr then
    local at = rate_wait(k, gr, cfg, now)
    if at then
      clear_out(k, gr, id)
      if gc and gc ~= gr then clear_out(k, gc, id) end
      park(k, gr, 'r', id, rank, topic)
      redis.call('ZADD', b .. 'gdelay', 'LT', at, gr)
      return false
    end
  end
  -- Counted first (its slot, its start), then its groups release their next in line (a group
  -- whose released message this was has none in `ready` now).
  local c_free, r_free = false, false
  if gc then
    redis.call('SADD', b .. 'gr:' .. gc, id)
    redis.call('HSET', b .. 'gof', id, gc)
    c_free = clear_out(k, gc, id)
  end
  if gr then
    local log = b .. 'gl:' .. gr
    redis.call('ZADD', log, now, token)
    redis.call('PEXPIRE', log, rate_window(cfg))
    r_free = gr == gc and c_free or clear_out(k, gr, id)
  end
  if gc then release(k, gc, now, c_free) end
  if gr and gr ~= gc then release(k, gr, now, r_free) end
  return true
end

-- A lease of `id` ended (settled, recovered, removed): its slot frees and its group releases the
-- next parked message.
lease_ended = function(k, id, now)
  local b = lim_base(k)
  local g = redis.call('HGET', b .. 'gof', id)
  if not g then return end
  redis.call('HDEL', b .. 'gof', id)
  redis.call('SREM', b .. 'gr:' .. g, id)
  release(k, g, now)
end

-- Removes `id` from where limits keep it (parked, or holding a slot). True when it was parked.
local function forget_limited(k, id, now)
  local b = lim_base(k)
  lease_ended(k, id, now)
  local where = redis.call('HGET', b .. 'gpark', id)
  if not where then return false end
  local g = string.sub(where, 2)
  local q = b .. 'gq:' .. g
  redis.call('ZREM', q, id)
  if redis.call('ZCARD', q) == 0 then redis.call('SREM', b .. 'gparked', g) end
  redis.call('HDEL', b .. 'gpark', id)
  local _, topic = group_parts(g)
  unpark_count(k, topic or '')
  return true
end

-- Where a new immediate message of a limited topic goes at enqueue: parked behind its group's
-- parked or released one, else into `ready` as its groups' released message. False when its
-- topic has no limits (it then goes where any other goes).
local function place_limited(k, id, stored)
  local topic, _, gc, gr = message_groups(k, stored)
  if not topic then return false end
  local b = lim_base(k)
  local seq, prio = string.match(stored, '^(%d+)|([012])|')
  local rank = tonumber(prio) * PRIO_UNIT + tonumber(seq)
  for _, g in ipairs({ gc or gr, gr }) do
    local out = redis.call('HGET', b .. 'gout', g)
    if redis.call('EXISTS', b .. 'gq:' .. g) == 1 or (out and redis.call('ZSCORE', k.ready, out)) then
      park(k, g, g == gc and 'c' or 'r', id, rank, topic)
      return true
    end
  end
  redis.call('ZADD', k.ready, rank, id)
  if gc then redis.call('HSET', b .. 'gout', gc, id) end
  if gr and gr ~= gc then redis.call('HSET', b .. 'gout', gr, id) end
  return true
end
