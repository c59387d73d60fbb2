-- enqueue.lua: stores a batch of new messages in one queue, skipping ids that already exist.
-- KEYS[1] declared marker   KEYS[2] seq counter   KEYS[3] msg hash
-- KEYS[4] ready zset        KEYS[5] delayed zset  KEYS[6] notify list
-- ARGV[1] count n, then n groups of 4:
--   id, priority (0-2), executeAt epoch ms or '' (none), rest (`<prio>|1|0|<executeAt>|<body>`)
-- Returns an error reply REPID_NOT_DECLARED when the queue is not declared (nothing stored),
-- else one integer per message: 1 created, 0 the id already existed (ready, delayed or running).
if redis.call('EXISTS', KEYS[1]) == 0 then
  return redis.error_reply('REPID_NOT_DECLARED')
end
local msg, ready, delayed = KEYS[3], KEYS[4], KEYS[5]
local n = tonumber(ARGV[1])
local base = redis.call('INCRBY', KEYS[2], n) - n
local now = now_ms()
local out = {}
local created = false
for i = 1, n do
  local j = 2 + (i - 1) * 4
  local id = ARGV[j]
  local seq = base + i
  if redis.call('HSETNX', msg, id, string.format('%d|', seq) .. ARGV[j + 3]) == 1 then
    local at = tonumber(ARGV[j + 2])
    if at and at > now then
      redis.call('ZADD', delayed, at, id)
    else
      redis.call('ZADD', ready, tonumber(ARGV[j + 1]) * PRIO_UNIT + seq, id)
    end
    out[i] = 1
    created = true
  else
    out[i] = 0
  end
end
if created then wake(KEYS[6]) end
return out
