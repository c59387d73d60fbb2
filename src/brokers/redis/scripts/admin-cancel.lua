-- admin-cancel.lua: cancels one message. A waiting or delayed one is removed at once; a running
-- one is marked (`cancel:<id>` in the clock hash) and its holder's next renewal answers with the
-- mode, so that the holder aborts it and settles it (the settlement clears the mark; `cancels`
-- counts the marks, see common.lua).
-- KEYS[1..13] msg, lease, ready, delayed, running, dead, notify, sched, consumers, clock, fresh:0-2
-- ARGV[1] id   ARGV[2] mode ('dead' or 'ack')
-- Returns 'removed', 'cancelling' or 'not-found'.
-- The design (keys, message states, queue clock, fencing, memos): docs/redis-design.md
local k = state_keys(1)
local id = ARGV[1]
if redis.call('HEXISTS', k.msg, id) == 0 then return 'not-found' end
if redis.call('ZSCORE', k.running, id) then
  if redis.call('HSET', k.clock, 'cancel:' .. id, ARGV[2]) == 1 then
    redis.call('HINCRBY', k.clock, 'cancels', 1)
  end
  return 'cancelling'
end
local stored = redis.call('HGET', k.msg, id)
redis.call('HDEL', k.msg, id)
redis.call('HDEL', k.sched, id)
if forget_limited(k, id, now_ms()) then
  -- It was parked by a limit (limits.lua): out of its group, nothing else holds it.
elseif redis.call('ZREM', k.ready, id) == 0 and redis.call('ZREM', k.delayed, id) == 0 then
  -- Waiting in its priority's fresh list: the consumer that pops the entry drops it.
  local prio = string.match(stored, '^%d+|([012])|')
  if prio then void_fresh(k.clock, tonumber(prio) + 1, id) end
end
return 'removed'
