-- receive.lua: one consumer round on one queue. Promotes due delayed messages, recovers expired
-- leases and those of consumers whose heartbeat expired (stalls + 1, or dead-lettered STALLED
-- past maxStalls), then leases up to `max` ready messages by priority and seq. Unreadable stored
-- messages are dead-lettered MALFORMED, missing ones EVICTED.
-- KEYS[1..13] msg, lease, ready, delayed, running, dead, notify, sched, consumers, clock, fresh:0-2
-- KEYS[14] (optional) memo of this call: a call sent again answers with the same leases
-- ARGV[1] max   ARGV[2] leaseMs   ARGV[3] token prefix (token = prefix .. 1-based index)
-- ARGV[4] maxStalls   ARGV[5] maxDeadLetters   ARGV[6] housekeeping limit per step
-- ARGV[7] consumer taking the leases, or ''
-- ARGV[8] m: the last m KEYS (after the memo) are memos of this queue's answered calls, deleted here
-- Returns { now, leaseUntil, nextAt, evicted, id1, stored1, id2, stored2, ... } where nextAt (or
-- -1) is the earliest delayed due time, lease deadline or holder's heartbeat expiry, given only
-- when nothing was leased, and evicted counts message bodies found missing.
-- The design (keys, message states, queue clock, fencing, memos): docs/redis-design.md
local k = state_keys(1)
local spent = tonumber(ARGV[8]) or 0
local memo = nil
if #KEYS - spent > STATE_N then memo = KEYS[STATE_N + 1] end
drop_spent(spent)
local max = tonumber(ARGV[1])
local prefix = ARGV[3]
local max_stalls = tonumber(ARGV[4])
local max_dead = tonumber(ARGV[5])
local limit = tonumber(ARGV[6])
local consumer = ARGV[7]
local suffix = ''
if consumer ~= '' then suffix = '@' .. consumer end
local now = now_ms()
local lease_ms = tonumber(ARGV[2])

if memo and max > 0 then
  local seen = redis.call('GET', memo)
  if seen then
    local ids = cjson.decode(seen)
    local out = { now, ids[1], -1, 0 }
    for n = 2, #ids do
      local id = ids[n]
      if redis.call('HGET', k.lease, id) == prefix .. (n - 1) .. suffix then
        out[#out + 1] = id
        out[#out + 1] = redis.call('HGET', k.msg, id)
      end
    end
    return out
  end
end

local qnow, credit, lt, paused = queue_clock(k.clock, now)
-- This round wakes the next consumer itself at its end: the limits' releases need not.
lim_quiet = true
-- A call with no housekeeping (limit 0: the wake-up of a blocked consumer) skips its reads.
local evicted = 0
if limit > 0 then evicted = housekeep(k, now, qnow, max_stalls, max_dead, limit) end
if lt > 0 then release_due(k, now, limit) end

if consumer ~= '' and max > 0 and not redis.call('ZSCORE', k.consumers, consumer) then
  -- A consumer without a live record (it never sent a heartbeat, or it expired): its leases end
  -- with the next round, as the contract says of a missing heartbeat.
  redis.call('ZADD', k.consumers, qnow, consumer)
end

-- A paused queue (admin pause) leases nothing and leaves no wake-up token.
if paused then max = 0 end

local lease_until = now + lease_ms
local out = { now, lease_until, -1, 0 }
local taken = 0
local ids = { lease_until }
if max > 0 then
  local popped = {}
  -- Leasing must not half-fail (a lease or running key of the wrong type): on an error, every
  -- popped message not yet leased or parked goes back to its place, no stall counted, and the
  -- error is raised (leases taken before it are then handed back as well).
  local done = 0
  local leased = {}
  local ok, err = pcall(function()
    -- With limits, a message its limit holds is parked instead (see limits.lua) and another is
    -- taken in its place, up to LIMIT_SCAN parked per round.
    local parked = 0
    while taken < max do
      popped = take_ready(k, max - taken)
      done = 0
      if #popped == 0 then break end
      if lt == 0 then
        -- No limits: the bodies are read with one HMGET, the leases written with one HSET and
        -- the deadlines with one ZADD, not a command of each per message. A body that cannot be
        -- read is dead-lettered first, on its own; an error before the leases are all written
        -- puts back every popped message still stored, none counted as leased.
        local pids = {}
        for i = 1, #popped do pids[i] = popped[i][1] end
        local bodies = hmget_spread(k.msg, pids)
        local tokens, deadlines, good = {}, {}, {}
        local deadline = qnow + lease_ms
        for i = 1, #popped do
          local id, stored = pids[i], bodies[i]
          if stored and string.find(stored, HEADER_SHAPE) then
            local token = prefix .. (taken + #good + 1) .. suffix
            good[#good + 1] = popped[i]
            tokens[#tokens + 1] = id
            tokens[#tokens + 1] = token
            deadlines[#deadlines + 1] = deadline
            deadlines[#deadlines + 1] = id
            out[#out + 1] = id
            out[#out + 1] = stored
            ids[#ids + 1] = id
          else
            redis.call('HDEL', k.sched, id)
            evicted = evicted + malformed(k, max_dead, id, stored, now)
          end
        end
        -- From here every popped message is leased or dead-lettered: on an error, the leased
        -- ones are handed back (their leases and deadlines removed) and no other is put back.
        leased = good
        done = #popped
        call_spread('HSET', k.lease, tokens, SPREAD)
        call_spread('ZADD', k.running, deadlines, SPREAD)
        taken = taken + #good
        break
      end
      for i = 1, #popped do
        local id = popped[i][1]
        local stored = redis.call('HGET', k.msg, id)
        if stored and string.find(stored, HEADER_SHAPE) then
          local token = prefix .. (taken + 1) .. suffix
          -- The lease is written before the limits' check, which counts it as held.
          redis.call('HSET', k.lease, id, token)
          if lt > 0 and not gate(k, id, stored, token, now) then
            redis.call('HDEL', k.lease, id)
            parked = parked + 1
          else
            taken = taken + 1
            redis.call('ZADD', k.running, qnow + lease_ms, id)
            out[#out + 1] = id
            out[#out + 1] = stored
            ids[#ids + 1] = id
            leased[#leased + 1] = popped[i]
          end
        else
          redis.call('HDEL', k.sched, id)
          evicted = evicted + malformed(k, max_dead, id, stored, now)
        end
        done = i
      end
      if lt == 0 or parked >= LIMIT_SCAN then break end
    end
  end)
  if not ok then
    local back = {}
    for _, t in ipairs(leased) do
      pcall(redis.call, 'HDEL', k.lease, t[1])
      pcall(redis.call, 'ZREM', k.running, t[1])
      if lt > 0 then pcall(lease_ended, k, t[1], now) end
      back[#back + 1] = t
    end
    for i = done + 1, #popped do
      local id = popped[i][1]
      if redis.call('HEXISTS', k.msg, id) == 1 then back[#back + 1] = popped[i] end
    end
    pcall(untake, k, back)
    return redis.error_reply(type(err) == 'table' and err.err or tostring(err))
  end
end
out[4] = evicted
if memo and taken > 0 then redis.call('SET', memo, cjson.encode(ids), 'PX', MEMO_MS) end

-- Chain the wake-up: while messages remain ready, leave a token for the next blocked consumer;
-- when none remain, clear stale tokens (every later enqueue or requeue pushes a fresh one).
if not paused and has_ready(k) then
  wake(k.notify)
else
  redis.call('DEL', k.notify)
end

if taken == 0 then
  local next_at = next_change(k, credit)
  if lt > 0 then
    local r = next_release(k)
    if r and (not next_at or r < next_at) then next_at = r end
  end
  if next_at then out[3] = next_at end
end
return out
