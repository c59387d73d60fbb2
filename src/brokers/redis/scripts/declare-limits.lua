-- declare-limits.lua: sets (or removes) the limits of one topic of a queue (see limits.lua).
-- A change puts every message parked under the topic's old limits back in its place in `ready`
-- (each is checked again when it is about to be leased); the same limits again change nothing.
-- KEYS[1..13] msg, lease, ready, delayed, running, dead, notify, sched, consumers, clock, fresh:0-2
-- ARGV[1] topic   ARGV[2] limits JSON ({ c, ck, r, rw, rk }), or '' to remove them
-- Returns 1 when the limits changed, 0 when they were the same.
-- The design (keys, message states, queue clock, fencing, memos): docs/redis-design.md
local k = state_keys(1)
local b = lim_base(k)
local topic, cfg = ARGV[1], ARGV[2]
if (redis.call('HGET', b .. 'limits', topic) or '') == cfg then return 0 end
if cfg == '' then
  redis.call('HDEL', b .. 'limits', topic)
else
  redis.call('HSET', b .. 'limits', topic, cfg)
end
local n = redis.call('HLEN', b .. 'limits')
if n > 0 then redis.call('HSET', k.clock, 'lt', n) else redis.call('HDEL', k.clock, 'lt') end
local moved = 0
for _, g in ipairs(redis.call('SMEMBERS', b .. 'gparked')) do
  local _, t = group_parts(g)
  if t == topic then
    local q = b .. 'gq:' .. g
    local parked = redis.call('ZRANGE', q, 0, -1, 'WITHSCORES')
    for i = 1, #parked, 2 do
      redis.call('ZADD', k.ready, parked[i + 1], parked[i])
      redis.call('HDEL', b .. 'gpark', parked[i])
      moved = moved + 1
    end
    redis.call('UNLINK', q)
    redis.call('SREM', b .. 'gparked', g)
    redis.call('HDEL', b .. 'gout', g)
    redis.call('ZREM', b .. 'gdelay', g)
  end
end
redis.call('HDEL', b .. 'gcount', topic)
if moved > 0 then wake(k.notify) end
return 1
