-- heartbeat.lua: records that a consumer is alive for ttl ms (queue time) on each given queue;
-- ttl 0 marks it gone, so the next round on the queue ends its leases.
-- KEYS: pairs of (consumers zset, clock hash), one pair per queue
-- ARGV[1] consumer   ARGV[2] ttl ms
-- Returns the number of queues written.
-- The design (keys, message states, queue clock, fencing, memos): docs/redis-design.md
local consumer = ARGV[1]
local ttl = tonumber(ARGV[2])
local now = now_ms()
for i = 1, #KEYS, 2 do
  local qnow = queue_clock(KEYS[i + 1], now)
  if ttl > 0 then
    redis.call('ZADD', KEYS[i], qnow + ttl, consumer)
  elseif redis.call('ZSCORE', KEYS[i], consumer) then
    redis.call('ZADD', KEYS[i], 0, consumer)
  end
end
return #KEYS / 2
