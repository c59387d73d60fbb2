-- peek.lua: a read-only look at many queues at once, for a consumer deciding where to receive.
-- KEYS: 8 per queue: ready zset, delayed zset, running zset, consumers zset, clock hash,
--   fresh lists 0-2
-- ARGV: none
-- Returns { now, nextAt, q1, ready1, due1, q2, ready2, due2, ... } for the queues (1-based, in
-- KEYS order) that have ready messages or something due now (a delayed message, a lease
-- deadline, a holder's heartbeat expiry, a limit's rate window); nextAt (or -1) is the earliest such time still ahead.
-- The design (keys, message states, queue clock, fencing, memos): docs/redis-design.md
local now = now_ms()
local next_at = -1
local out = { now, -1 }
for q = 1, #KEYS / 8 do
  local b = (q - 1) * 8
  local ready = redis.call('ZCARD', KEYS[b + 1]) + redis.call('LLEN', KEYS[b + 6])
    + redis.call('LLEN', KEYS[b + 7]) + redis.call('LLEN', KEYS[b + 8])
    - (tonumber(redis.call('HGET', KEYS[b + 5], 'voids')) or 0)
  local due = 0
  local function at(t)
    if t <= now then
      due = 1
    elseif next_at < 0 or t < next_at then
      next_at = t
    end
  end
  local d = redis.call('ZRANGE', KEYS[b + 2], 0, 0, 'WITHSCORES')
  if d[2] then at(tonumber(d[2])) end
  local r = redis.call('ZRANGE', KEYS[b + 3], 0, 0, 'WITHSCORES')
  if r[2] then
    local credit = tonumber(redis.call('HGET', KEYS[b + 5], 'credit')) or 0
    at(tonumber(r[2]) + credit)
    local c = redis.call('ZRANGE', KEYS[b + 4], 0, 0, 'WITHSCORES')
    if c[2] then at(tonumber(c[2]) + credit) end
  end
  -- A rate window of limits.lua letting a parked message go.
  if (tonumber(redis.call('HGET', KEYS[b + 5], 'lt')) or 0) > 0 then
    local gdelay = string.sub(KEYS[b + 1], 1, #KEYS[b + 1] - 5) .. 'gdelay'
    local g = redis.call('ZRANGE', gdelay, 0, 0, 'WITHSCORES')
    if g[2] then at(tonumber(g[2])) end
  end
  if ready > 0 or due == 1 then
    out[#out + 1] = q
    out[#out + 1] = ready
    out[#out + 1] = due
  end
end
out[2] = next_at
return out
