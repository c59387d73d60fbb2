-- receive.lua: one consumer round on one queue. Promotes due delayed messages, recovers expired
-- leases (stalls + 1, or dead-lettered STALLED past maxStalls), then leases up to `max` ready
-- messages by priority and seq. Unreadable stored messages are dead-lettered MALFORMED.
-- KEYS[1] msg hash     KEYS[2] lease hash (id -> token)  KEYS[3] ready zset   KEYS[4] delayed zset
-- KEYS[5] running zset (score: lease deadline)           KEYS[6] dead list    KEYS[7] notify list
-- ARGV[1] max   ARGV[2] leaseMs   ARGV[3] token prefix (token = prefix .. 1-based index)
-- ARGV[4] maxStalls   ARGV[5] maxDeadLetters   ARGV[6] housekeeping limit per step
-- Returns { now, leaseUntil, nextAt, id1, stored1, id2, stored2, ... } where nextAt (a string,
-- or -1) is the earliest delayed due time or lease deadline, given only when nothing was leased.
local msg, lease, ready, delayed, running, dead, notify =
  KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5], KEYS[6], KEYS[7]
local max = tonumber(ARGV[1])
local prefix = ARGV[3]
local max_stalls = tonumber(ARGV[4])
local max_dead = tonumber(ARGV[5])
local limit = tonumber(ARGV[6])
local now = now_ms()
local lease_until = now + tonumber(ARGV[2])

local due = redis.call('ZRANGEBYSCORE', delayed, '-inf', now, 'LIMIT', 0, limit)
for _, id in ipairs(due) do
  redis.call('ZREM', delayed, id)
  local stored = redis.call('HGET', msg, id)
  local seq, prio
  if stored then seq, prio = string.match(stored, '^(%d+)|([012])|') end
  if seq then
    redis.call('ZADD', ready, tonumber(prio) * PRIO_UNIT + tonumber(seq), id)
  else
    malformed(msg, lease, dead, max_dead, id, stored, now)
  end
end

local expired = redis.call('ZRANGEBYSCORE', running, '-inf', now, 'LIMIT', 0, limit)
for _, id in ipairs(expired) do
  redis.call('ZREM', running, id)
  redis.call('HDEL', lease, id)
  local stored = redis.call('HGET', msg, id)
  local seq, prio, attempt, stalls, at, pos
  if stored then seq, prio, attempt, stalls, at, pos = string.match(stored, HEADER) end
  if seq then
    local n = tonumber(stalls) + 1
    local renewed = seq .. '|' .. prio .. '|' .. attempt .. '|' .. n .. '|' .. at .. '|' .. string.sub(stored, pos)
    if n > max_stalls then
      redis.call('HDEL', msg, id)
      bury(dead, max_dead, id, renewed, cjson.encode({
        name = 'StalledError',
        code = 'STALLED',
        message = 'Lease expired ' .. n .. ' times without the message being settled (worker crashed or hung)',
      }), now)
    else
      redis.call('HSET', msg, id, renewed)
      redis.call('ZADD', ready, tonumber(prio) * PRIO_UNIT + tonumber(seq), id)
    end
  else
    malformed(msg, lease, dead, max_dead, id, stored, now)
  end
end

local out = { now, lease_until, -1 }
local taken = 0
if max > 0 then
  local popped = redis.call('ZPOPMIN', ready, max)
  for i = 1, #popped, 2 do
    local id = popped[i]
    local stored = redis.call('HGET', msg, id)
    if stored and string.find(stored, HEADER) then
      taken = taken + 1
      redis.call('HSET', lease, id, prefix .. taken)
      redis.call('ZADD', running, lease_until, id)
      out[#out + 1] = id
      out[#out + 1] = stored
    else
      malformed(msg, lease, dead, max_dead, id, stored, now)
    end
  end
end

-- Chain the wake-up: while messages remain ready, leave a token for the next blocked consumer;
-- when none remain, clear stale tokens (every later enqueue or requeue pushes a fresh one).
if redis.call('ZCARD', ready) > 0 then
  wake(notify)
else
  redis.call('DEL', notify)
end

if taken == 0 then
  local next_at = nil
  local d = redis.call('ZRANGE', delayed, 0, 0, 'WITHSCORES')
  if d[2] then next_at = tonumber(d[2]) end
  local r = redis.call('ZRANGE', running, 0, 0, 'WITHSCORES')
  if r[2] and (next_at == nil or tonumber(r[2]) < next_at) then next_at = tonumber(r[2]) end
  if next_at then out[3] = next_at end
end
return out
