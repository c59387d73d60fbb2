-- enqueue-one.lua: the commonest enqueue, one new message due now, not periodic, without dedupe
-- window or debounce, with only the keys it touches (an EVALSHA's keys and arguments cost Redis
-- time of their own, and enqueue.lua takes 12 keys and 6 arguments for it).
-- KEYS[1] declared marker   KEYS[2] seq counter   KEYS[3] msg hash
-- KEYS[4] the fresh list of the message's priority   KEYS[5] notify list   KEYS[6] clock hash
-- ARGV[1] id   ARGV[2] rest (`<prio>|1|0||<body>`, as enqueue.lua takes it)
-- Returns an error reply REPID_NOT_DECLARED when the queue is not declared (nothing stored);
-- 1 when the message was stored; 0 when this script stored nothing because the queue has limits
-- or the id exists (the caller then sends the same message, origin and all, to enqueue.lua,
-- which places a limited message, or tells an existing id apart from this call's own message
-- stored by an earlier send of the same call). A seq taken before an existing id is found is
-- left unused: seq numbers only order messages, gaps change nothing.
-- The design (keys, message states, queue clock, fencing, memos): docs/redis-design.md
if (tonumber(redis.call('HGET', KEYS[6], 'lt')) or 0) > 0 then return 0 end
local seq = redis.call('INCRBY', KEYS[2], 1)
if seq == 1 and redis.call('EXISTS', KEYS[1]) == 0 then
  redis.call('DEL', KEYS[2])
  return redis.error_reply('REPID_NOT_DECLARED')
end
if redis.call('HSETNX', KEYS[3], ARGV[1], string.format('%d|', seq) .. ARGV[2]) == 0 then
  return 0
end
redis.call('RPUSH', KEYS[4], ARGV[1])
if redis.call('LLEN', KEYS[5]) == 0 then redis.call('RPUSH', KEYS[5], '1') end
return 1
