-- flush.lua: removes every message of one queue (ready, delayed, running, dead, schedules) and,
-- when asked, the queue itself. Leases handed out before stop matching, so their settlements are
-- refused.
-- KEYS[1..13] msg, lease, ready, delayed, running, dead, notify, sched, consumers, clock, fresh:0-2
-- KEYS[14] declared marker   KEYS[15] seq counter
-- ARGV[1] '1' to delete the queue too (declared marker, seq counter, consumers, clock), '0' to
-- keep it declared
-- Returns 1.
-- The design (keys, message states, queue clock, fencing, memos): docs/redis-design.md
local k = state_keys(1)
-- What limits keep of the messages (limits.lua): parked groups, slots, released ones. The
-- declared limits stay with a kept queue; rate windows of starts already made run out.
local b = lim_base(k)
for _, g in ipairs(redis.call('SMEMBERS', b .. 'gparked')) do redis.call('UNLINK', b .. 'gq:' .. g) end
for _, g in ipairs(redis.call('HVALS', b .. 'gof')) do redis.call('UNLINK', b .. 'gr:' .. g) end
redis.call('UNLINK', b .. 'gparked', b .. 'gof', b .. 'gpark', b .. 'gout', b .. 'gdelay', b .. 'gcount',
  b .. 'next')
if ARGV[1] == '1' then redis.call('UNLINK', b .. 'limits') end
redis.call('UNLINK', k.msg, k.lease, k.ready, k.delayed, k.running, k.dead, k.notify, k.sched,
  k.fresh[1], k.fresh[2], k.fresh[3])
if ARGV[1] == '1' then
  redis.call('UNLINK', k.consumers, k.clock, KEYS[STATE_N + 1], KEYS[STATE_N + 2])
else
  -- Voided fresh messages went with their lists, and running ones with the leases: so do their
  -- void and cancel marks (the clock hash holds only a few fields besides marks).
  for _, field in ipairs(redis.call('HKEYS', k.clock)) do
    if field == 'voids' or string.sub(field, 1, 5) == 'void:' or field == 'cancels'
      or string.sub(field, 1, 7) == 'cancel:' then
      redis.call('HDEL', k.clock, field)
    end
  end
end
return 1
