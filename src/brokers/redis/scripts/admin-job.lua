-- admin-job.lua: one message by id, in whatever state, for the admin API.
-- KEYS[1..13] msg, lease, ready, delayed, running, dead, notify, sched, consumers, clock, fresh:0-2
-- ARGV[1] id
-- Returns { state, stored, leaseUntil (Redis time) or '', cancel mode or '', and for a message
-- parked by a limit: 'concurrency' or 'rateLimit', its key, the limit's number }
-- for a live message, { 'dead', deadEntry } for a dead letter (the newest with that id), or {}.
-- The design (keys, message states, queue clock, fencing, memos): docs/redis-design.md
local k = state_keys(1)
local id = ARGV[1]
local stored = redis.call('HGET', k.msg, id)
if stored then
  local state, lease_until = 'ready', ''
  if redis.call('ZSCORE', k.running, id) then
    state = 'running'
    local credit = tonumber(redis.call('HGET', k.clock, 'credit')) or 0
    lease_until = tostring(tonumber(redis.call('ZSCORE', k.running, id)) + credit)
  elseif redis.call('ZSCORE', k.delayed, id) then
    state = 'delayed'
  end
  local out = { state, stored, lease_until, redis.call('HGET', k.clock, 'cancel:' .. id) or '' }
  -- Parked by a limit (limits.lua): which one, its key and its number.
  local where = state == 'ready' and redis.call('HGET', lim_base(k) .. 'gpark', id)
  if where then
    local reason = string.sub(where, 1, 1)
    local _, topic, key = group_parts(string.sub(where, 2))
    local cfg = topic and limits_of(k, topic)
    if cfg then
      out[5] = reason == 'c' and 'concurrency' or 'rateLimit'
      out[6] = key
      out[7] = (reason == 'c' and cfg.c or cfg.r) or 0
    end
  end
  return out
end
local len = redis.call('LLEN', k.dead)
local step = 500
local stop = len - 1
while stop >= 0 do
  local start = math.max(0, stop - step + 1)
  local entries = redis.call('LRANGE', k.dead, start, stop)
  for i = #entries, 1, -1 do
    local ok, entry = pcall(cjson.decode, entries[i])
    if ok and type(entry) == 'table' and entry[1] == id then return { 'dead', entries[i] } end
  end
  stop = start - 1
end
return {}
