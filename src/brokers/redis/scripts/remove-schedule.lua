-- remove-schedule.lua: removes one periodic message in whatever state it is; a running one's
-- lease (and an operator's cancel mark) goes with it, so its settlement is refused and it is not
-- rescheduled.
-- KEYS[1..13] msg, lease, ready, delayed, running, dead, notify, sched, consumers, clock, fresh:0-2
-- ARGV[1] id
-- Returns 1 when a periodic message was removed, else 0.
-- The design (keys, message states, queue clock, fencing, memos): docs/redis-design.md
local k = state_keys(1)
local id = ARGV[1]
if redis.call('HDEL', k.sched, id) == 0 then return 0 end
redis.call('HDEL', k.msg, id)
redis.call('HDEL', k.lease, id)
forget_limited(k, id, now_ms())
redis.call('ZREM', k.ready, id)
redis.call('ZREM', k.delayed, id)
redis.call('ZREM', k.running, id)
if cancel_marks(k.clock) > 0 then clear_cancel(k.clock, id) end
return 1
