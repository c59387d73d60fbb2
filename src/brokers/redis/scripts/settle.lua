-- settle.lua: applies a batch of settlements to messages of one queue. Each is applied only when
-- its token is still the message's current lease (fencing); a kept result is written (SET PX)
-- and published on a channel named like its key in the same step, before the message moves.
-- KEYS[1] msg hash   KEYS[2] lease hash   KEYS[3] ready zset   KEYS[4] delayed zset
-- KEYS[5] running zset   KEYS[6] dead list   KEYS[7] notify list   KEYS[8..] result keys
-- ARGV[1] maxDeadLetters   ARGV[2] count n, then n groups of 9:
--   kind ('a' ack, 'r' requeue, 'd' dead), id, token, attempt (requeue) or '',
--   executeAt epoch ms (requeue) or '', error JSON (dead) or '', result JSON or '',
--   result ttl ms or '', index into KEYS of the result key or '0'
-- Returns one integer per settlement: 1 applied, 0 the lease was no longer held.
local msg, lease, ready, delayed, running, dead, notify =
  KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5], KEYS[6], KEYS[7]
local max_dead = tonumber(ARGV[1])
local n = tonumber(ARGV[2])
local now = now_ms()
local out = {}
local woken = false
for i = 1, n do
  local j = 3 + (i - 1) * 9
  local kind, id, token = ARGV[j], ARGV[j + 1], ARGV[j + 2]
  if redis.call('HGET', lease, id) ~= token then
    out[i] = 0
  else
    local rk = tonumber(ARGV[j + 8])
    if rk > 0 then
      redis.call('SET', KEYS[rk], ARGV[j + 6], 'PX', ARGV[j + 7])
      redis.call('PUBLISH', KEYS[rk], ARGV[j + 6])
    end
    redis.call('HDEL', lease, id)
    redis.call('ZREM', running, id)
    if kind == 'a' then
      redis.call('HDEL', msg, id)
    elseif kind == 'd' then
      local stored = redis.call('HGET', msg, id)
      redis.call('HDEL', msg, id)
      bury(dead, max_dead, id, stored, ARGV[j + 5], now)
    else
      local stored = redis.call('HGET', msg, id)
      local seq, prio, attempt, stalls, at, pos
      if stored then seq, prio, attempt, stalls, at, pos = string.match(stored, HEADER) end
      if seq then
        local new_at = tonumber(ARGV[j + 4])
        local is_delayed = new_at ~= nil and new_at > now
        if is_delayed then at = ARGV[j + 4] end
        redis.call('HSET', msg, id,
          seq .. '|' .. prio .. '|' .. ARGV[j + 3] .. '|' .. stalls .. '|' .. at .. '|' .. string.sub(stored, pos))
        if is_delayed then
          redis.call('ZADD', delayed, new_at, id)
        else
          redis.call('ZADD', ready, tonumber(prio) * PRIO_UNIT + tonumber(seq), id)
        end
        woken = true
      else
        malformed(msg, lease, dead, max_dead, id, stored, now)
      end
    end
    out[i] = 1
  end
end
if woken then wake(notify) end
return out
