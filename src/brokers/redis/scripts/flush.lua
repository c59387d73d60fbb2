-- flush.lua: removes every message of one queue (ready, delayed, running, dead) and, when asked,
-- the queue itself. Leases handed out before stop matching, so their settlements are refused.
-- KEYS[1] msg hash   KEYS[2] lease hash   KEYS[3] ready zset   KEYS[4] delayed zset
-- KEYS[5] running zset   KEYS[6] dead list   KEYS[7] notify list
-- KEYS[8] declared marker   KEYS[9] seq counter
-- ARGV[1] '1' to delete the queue too (declared marker and seq counter), '0' to keep it declared
-- Returns 1.
redis.call('UNLINK', KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5], KEYS[6], KEYS[7])
if ARGV[1] == '1' then
  redis.call('UNLINK', KEYS[8], KEYS[9])
end
return 1
