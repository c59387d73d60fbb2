-- flush.lua: removes every message of one queue (ready, delayed, running, dead, schedules) and,
-- when asked, the queue itself. Leases handed out before stop matching, so their settlements are
-- refused.
-- KEYS[1..10] msg, lease, ready, delayed, running, dead, notify, sched, consumers, clock
-- KEYS[11] declared marker   KEYS[12] seq counter
-- ARGV[1] '1' to delete the queue too (declared marker, seq counter, consumers, clock), '0' to
-- keep it declared
-- Returns 1.
redis.call('UNLINK', KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5], KEYS[6], KEYS[7], KEYS[8])
if ARGV[1] == '1' then
  redis.call('UNLINK', KEYS[9], KEYS[10], KEYS[11], KEYS[12])
end
return 1
