-- settle.lua: applies a batch of settlements to messages of one queue. Each is applied only when
-- its token is still the message's current lease (fencing); a kept result is written (SET PX)
-- and published on a channel named like its key in the same step, before the message moves. A
-- refused PUBLISH (an ACL user without channel permissions) does not fail the settlement:
-- waiters then read the key. Every applied settlement resets `stalls` to 0.
-- KEYS[1..13] msg, lease, ready, delayed, running, dead, notify, sched, consumers, clock, fresh:0-2
-- KEYS[14] memo of this call (a call sent again answers as the first did)   KEYS[15..] result keys
-- ARGV[1] maxDeadLetters   ARGV[2] count n, then n groups: kind, id, token, then by kind
--   'a' ack: nothing more   'r' requeue: attempt, executeAt epoch ms or ''   'd' dead: error JSON
--   and, when the kind is in upper case ('A', 'R', 'D'), a result to keep: result JSON, its ttl
--   ms, and the index into KEYS of its key (a plain ack is 3 arguments, not 9)
-- ARGV[#ARGV - 1] m: the last m KEYS are memos of this queue's answered calls, deleted here
-- ARGV[#ARGV] (last) 's' to announce results with SPUBLISH (sharded: a cluster of Redis 7+), else PUBLISH
-- Returns n integers (1 applied, 0 the lease was no longer held), then the number of refused
-- publications.
-- The design (keys, message states, queue clock, fencing, memos): docs/redis-design.md
local k = state_keys(1)
local memo = KEYS[STATE_N + 1]
drop_spent(tonumber(ARGV[#ARGV - 1]))
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
-- Asked once per call: most queues hold no periodic message and no cancel mark, and then their
-- settlements skip those two deletions.
local periodic = redis.call('EXISTS', k.sched) == 1
local marks = cancel_marks(k.clock)
-- Leases that hold a limit's slot are listed in `gof` (see limits.lua): asked once per call.
local slots = redis.call('EXISTS', lim_base(k) .. 'gof') == 1
-- Follow-ups of debounced messages enqueued while they ran (enqueue.lua), likewise.
local nexts = lim_base(k) .. 'next'
local follow = redis.call('EXISTS', nexts) == 1

-- The follow-up of `id`, if any, becomes its message (a new seq, due at its own time).
local function follow_up(id)
  local rest = redis.call('HGET', nexts, id)
  if not rest then return end
  redis.call('HDEL', nexts, id)
  redis.call('ZREM', k.ready, id)
  redis.call('ZREM', k.delayed, id)
  local seq = redis.call('INCR', lim_base(k) .. 'seq')
  redis.call('HSET', k.msg, id, seq .. '|' .. rest)
  local prio, at = string.match(rest, '^([012])|%d+|%d+|(%d*)|')
  at = tonumber(at)
  if at and at > now then
    redis.call('ZADD', k.delayed, at, id)
  else
    redis.call('ZADD', k.ready, tonumber(prio) * PRIO_UNIT + seq, id)
  end
  woken = true
end
-- The settlements, read first so that every lease is asked with one HMGET.
local items = {}
local j = 3
for i = 1, n do
  local it = { kind = ARGV[j], id = ARGV[j + 1], token = ARGV[j + 2] }
  j = j + 3
  it.base = string.lower(it.kind)
  if it.base == 'r' then
    it.attempt, it.at_text = ARGV[j], ARGV[j + 1]
    j = j + 2
  elseif it.base == 'd' then
    it.error_json = ARGV[j]
    j = j + 1
  end
  if it.base ~= it.kind then
    it.result, it.result_ttl, it.rk = ARGV[j], ARGV[j + 1], tonumber(ARGV[j + 2])
    j = j + 3
  end
  items[i] = it
end
local ids = {}
for i = 1, n do ids[i] = items[i].id end
local held = hmget_spread(k.lease, ids)
-- Plain acks, on a queue without limit slots in use or debounced follow-ups, delete their
-- leases, deadlines and bodies with one command each for the whole call; every other
-- settlement is applied on its own.
local acked = {}
-- An applied settlement ends its lease: a later one for the same id in this call is refused.
local ended = {}
for i = 1, n do
  local it = items[i]
  local id, base = it.id, it.base
  if held[i] ~= it.token or ended[id] then
    out[i] = 0
  else
    ended[id] = true
    if it.rk then
      redis.call('SET', KEYS[it.rk], it.result, 'PX', it.result_ttl)
      local published = redis.pcall(publish, KEYS[it.rk], it.result)
      if type(published) == 'table' and published.err then refused = refused + 1 end
    end
    if marks > 0 then marks = marks - clear_cancel(k.clock, id) end
    if base == 'a' and not slots and not follow then
      acked[#acked + 1] = id
    else
      redis.call('HDEL', k.lease, id)
      redis.call('ZREM', k.running, id)
      if slots then lease_ended(k, id, now) end
      if base == 'a' then
        redis.call('HDEL', k.msg, id)
        if periodic then redis.call('HDEL', k.sched, id) end
      elseif base == 'd' then
        local stored = redis.call('HGET', k.msg, id)
        redis.call('HDEL', k.msg, id)
        if periodic then redis.call('HDEL', k.sched, id) end
        bury(k.dead, max_dead, id, stored, it.error_json, now)
      else
        local stored = redis.call('HGET', k.msg, id)
        local seq, prio, attempt, stalls, at, pos
        if stored then seq, prio, attempt, stalls, at, pos = string.match(stored, HEADER) end
        if seq then
          local new_at = tonumber(it.at_text)
          local is_delayed = new_at ~= nil and new_at > now
          if is_delayed then at = it.at_text end
          redis.call('HSET', k.msg, id,
            seq .. '|' .. prio .. '|' .. it.attempt .. '|0|' .. at .. '|' .. string.sub(stored, pos))
          if is_delayed then
            redis.call('ZADD', k.delayed, new_at, id)
          else
            redis.call('ZADD', k.ready, tonumber(prio) * PRIO_UNIT + tonumber(seq), id)
          end
          woken = true
        else
          redis.call('HDEL', k.sched, id)
          malformed(k, max_dead, id, stored, now)
        end
      end
    end
    if follow then follow_up(id) end
    out[i] = 1
  end
end
if #acked > 0 then
  call_spread('HDEL', k.lease, acked, SPREAD)
  call_spread('ZREM', k.running, acked, SPREAD)
  call_spread('HDEL', k.msg, acked, SPREAD)
  if periodic then call_spread('HDEL', k.sched, acked, SPREAD) end
end
if woken then wake(k.notify) end
out[n + 1] = refused
redis.call('SET', memo, cjson.encode(out), 'PX', MEMO_MS)
return out
