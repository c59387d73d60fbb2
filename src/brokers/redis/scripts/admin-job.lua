-- admin-job.lua: one message by id, in whatever state, for the admin API.
-- KEYS[1..13] msg, lease, ready, delayed, running, dead, notify, sched, consumers, clock, fresh:0-2
-- ARGV[1] id
-- Returns { state, stored, leaseUntil (Redis time) or '', cancel mode or '' }
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
  return { state, stored, lease_until, redis.call('HGET', k.clock, 'cancel:' .. id) or '' }
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
