-- settle.lua: applies a batch of settlements to messages of one queue. Each is applied only when
-- its token is still the message's current lease (fencing); a kept result is written (SET PX)
-- and published on a channel named like its key in the same step, before the message moves. A
-- refused PUBLISH (an ACL user without channel permissions) does not fail the settlement:
-- waiters then read the key. Every applied settlement resets `stalls` to 0.
-- KEYS[1..13] msg, lease, ready, delayed, running, dead, notify, sched, consumers, clock, fresh:0-2
-- KEYS[14] memo of this call (a call sent again answers as the first did)   KEYS[15..] result keys
-- ARGV[1] maxDeadLetters   ARGV[2] count n, then n groups of 9:
--   kind ('a' ack, 'r' requeue, 'd' dead), id, token, attempt (requeue) or '',
--   executeAt epoch ms (requeue) or '', error JSON (dead) or '', result JSON or '',
--   result ttl ms or '', index into KEYS of the result key or '0'
-- ARGV[#ARGV] (last) 's' to announce results with SPUBLISH (sharded: a cluster of Redis 7+), else PUBLISH
-- Returns n integers (1 applied, 0 the lease was no longer held), then the number of refused
-- publications.
local k = state_keys(1)
local memo = KEYS[STATE_N + 1]
local seen = redis.call('GET', memo)
if seen then return cjson.decode(seen) end
local max_dead = tonumber(ARGV[1])
local n = tonumber(ARGV[2])
local now = now_ms()
queue_clock(k.clock, now)
local out = {}
local woken = false
local refused = 0
local publish = ARGV[#ARGV] == 's' and 'SPUBLISH' or 'PUBLISH'
for i = 1, n do
  local j = 3 + (i - 1) * 9
  local kind, id, token = ARGV[j], ARGV[j + 1], ARGV[j + 2]
  if redis.call('HGET', k.lease, id) ~= token then
    out[i] = 0
  else
    local rk = tonumber(ARGV[j + 8])
    if rk > 0 then
      redis.call('SET', KEYS[rk], ARGV[j + 6], 'PX', ARGV[j + 7])
      local published = redis.pcall(publish, KEYS[rk], ARGV[j + 6])
      if type(published) == 'table' and published.err then refused = refused + 1 end
    end
    redis.call('HDEL', k.lease, id)
    redis.call('ZREM', k.running, id)
    redis.call('HDEL', k.clock, 'cancel:' .. id)
    if kind == 'a' then
      redis.call('HDEL', k.msg, id)
      redis.call('HDEL', k.sched, id)
    elseif kind == 'd' then
      local stored = redis.call('HGET', k.msg, id)
      redis.call('HDEL', k.msg, id)
      redis.call('HDEL', k.sched, id)
      bury(k.dead, max_dead, id, stored, ARGV[j + 5], now)
    else
      local stored = redis.call('HGET', k.msg, id)
      local seq, prio, attempt, stalls, at, pos
      if stored then seq, prio, attempt, stalls, at, pos = string.match(stored, HEADER) end
      if seq then
        local new_at = tonumber(ARGV[j + 4])
        local is_delayed = new_at ~= nil and new_at > now
        if is_delayed then at = ARGV[j + 4] end
        redis.call('HSET', k.msg, id,
          seq .. '|' .. prio .. '|' .. ARGV[j + 3] .. '|0|' .. at .. '|' .. string.sub(stored, pos))
        if is_delayed then
          redis.call('ZADD', k.delayed, new_at, id)
        else
          redis.call('ZADD', k.ready, tonumber(prio) * PRIO_UNIT + tonumber(seq), id)
        end
        woken = true
      else
        redis.call('HDEL', k.sched, id)
        malformed(k.msg, k.lease, k.dead, max_dead, id, stored, now)
      end
    end
    out[i] = 1
  end
end
if woken then wake(k.notify) end
out[n + 1] = refused
redis.call('SET', memo, cjson.encode(out), 'PX', MEMO_MS)
return out
