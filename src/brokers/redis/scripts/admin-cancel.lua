-- admin-cancel.lua: cancels one message. A waiting or delayed one is removed at once; a running
-- one is marked (`cancel:<id>` in the clock hash) and its holder's next renewal answers with the
-- mode, so that the holder aborts it and settles it (the settlement clears the mark).
-- KEYS[1..10] msg, lease, ready, delayed, running, dead, notify, sched, consumers, clock
-- ARGV[1] id   ARGV[2] mode ('dead' or 'ack')
-- Returns 'removed', 'cancelling' or 'not-found'.
local k = state_keys(1)
local id = ARGV[1]
if redis.call('HEXISTS', k.msg, id) == 0 then return 'not-found' end
if redis.call('ZSCORE', k.running, id) then
  redis.call('HSET', k.clock, 'cancel:' .. id, ARGV[2])
  return 'cancelling'
end
redis.call('HDEL', k.msg, id)
redis.call('HDEL', k.sched, id)
redis.call('ZREM', k.ready, id)
redis.call('ZREM', k.delayed, id)
return 'removed'
