-- renew.lua: extends the leases still held (token matches) to now + leaseMs.
-- KEYS[1] lease hash (id -> token)   KEYS[2] running zset (score: lease deadline)
-- ARGV[1] leaseMs   ARGV[2] count n, then n pairs: id, token
-- Returns one integer per lease: 1 renewed, 0 no longer held.
local lease, running = KEYS[1], KEYS[2]
local lease_until = now_ms() + tonumber(ARGV[1])
local n = tonumber(ARGV[2])
local out = {}
for i = 1, n do
  local j = 3 + (i - 1) * 2
  local id = ARGV[j]
  if redis.call('HGET', lease, id) == ARGV[j + 1] then
    redis.call('ZADD', running, 'XX', lease_until, id)
    out[i] = 1
  else
    out[i] = 0
  end
end
return out
