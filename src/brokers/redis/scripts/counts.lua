-- counts.lua: sizes of one queue's structures, read in one atomic step.
-- KEYS[1] ready zset   KEYS[2] delayed zset   KEYS[3] running zset   KEYS[4] dead list
-- ARGV: none
-- Returns { ready, delayed, running, dead }.
return {
  redis.call('ZCARD', KEYS[1]),
  redis.call('ZCARD', KEYS[2]),
  redis.call('ZCARD', KEYS[3]),
  redis.call('LLEN', KEYS[4]),
}
