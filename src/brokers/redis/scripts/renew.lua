-- renew.lua: extends the leases still held (token matches) to now + leaseMs (in queue time).
-- KEYS[1..13] msg, lease, ready, delayed, running, dead, notify, sched, consumers, clock, fresh:0-2
-- ARGV[1] leaseMs   ARGV[2] count n, then n pairs: id, token
-- Returns one integer per lease: 1 renewed, 0 no longer held, 2 renewed but cancelled by an
-- operator (to be dead-lettered), 3 renewed but cancelled (to be acked); see admin-cancel.lua.
-- The design (keys, message states, queue clock, fencing, memos): docs/redis-design.md
local k = state_keys(1)
local qnow = queue_clock(k.clock, now_ms())
local lease_until = qnow + tonumber(ARGV[1])
local n = tonumber(ARGV[2])
local out = {}
for i = 1, n do
  local j = 3 + (i - 1) * 2
  local id = ARGV[j]
  if redis.call('HGET', k.lease, id) == ARGV[j + 1] then
    redis.call('ZADD', k.running, 'XX', lease_until, id)
    local cancel = redis.call('HGET', k.clock, 'cancel:' .. id)
    if cancel == 'dead' then out[i] = 2 elseif cancel == 'ack' then out[i] = 3 else out[i] = 1 end
  else
    out[i] = 0
  end
end
return out
