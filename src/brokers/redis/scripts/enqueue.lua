-- enqueue.lua: stores a batch of new messages in one queue, skipping ids that already exist,
-- except periodic ones, whose stored definition is replaced (see the broker contract).
-- KEYS[1] declared marker   KEYS[2] seq counter   KEYS[3] msg hash
-- KEYS[4] ready zset        KEYS[5] delayed zset  KEYS[6] notify list
-- KEYS[7] lease hash        KEYS[8] sched hash (periodic id -> schedule JSON)
-- KEYS[9..11] fresh lists of priorities 0-2 (see common.lua)   KEYS[12] clock hash
-- ARGV[1] count n, then n groups of 5:
--   id, priority (0-2), executeAt epoch ms or '' (none), schedule JSON or '' (not periodic),
--   rest (`<prio>|1|0|<executeAt>|<body>`)
-- then, when some messages have a dedupe window: d, the call's origin, and d pairs (message
--   number 1..n, window ms), their window keys being KEYS[13..12+d] in the same order. An id
--   whose window key is held by another call creates nothing; a message this call creates
--   opens its window (SET PX, valued with the origin, so that the call sent again still finds
--   its own message).
-- then b, the number of debounced messages, and their numbers (1..n): d is then sent even when 0.
-- Returns an error reply REPID_NOT_DECLARED when the queue is not declared (nothing stored),
-- else one integer per message: 1 created, 0 the id already existed (ready, delayed or
-- running). A call sent again after a lost reply finds its own messages stored byte for byte
-- (the body holds the id of the call that stored it) and answers 1 again.
-- The design (keys, message states, queue clock, fencing, memos): docs/redis-design.md

local msg, ready, delayed, lease, sched = KEYS[3], KEYS[4], KEYS[5], KEYS[7], KEYS[8]
local REST = '^([012])|%d+|%d+|(%d*)|()'
local n = tonumber(ARGV[1])
local top = redis.call('INCRBY', KEYS[2], n)
-- The seq counter lives as long as the queue (flush deletes both): only a counter that starts
-- with this call needs the declared marker checked, so a busy queue is not asked every time.
if top == n and redis.call('EXISTS', KEYS[1]) == 0 then
  redis.call('DEL', KEYS[2])
  return redis.error_reply('REPID_NOT_DECLARED')
end
local base = top - n
local now -- Redis time, read only when a message has a due time
local out = {}
local woken = false
local this_call = {}
local windows = {}
local origin = nil
local d = tonumber(ARGV[2 + n * 5]) or 0
if d > 0 then
  origin = ARGV[3 + n * 5]
  for w = 1, d do
    local at = 3 + n * 5 + (w - 1) * 2
    windows[tonumber(ARGV[at + 1])] = { key = KEYS[12 + w], ms = ARGV[at + 2] }
  end
end
local debounced = {}
local b_at = 3 + n * 5
if d > 0 then b_at = b_at + 1 + d * 2 end
for i = 1, tonumber(ARGV[b_at]) or 0 do debounced[tonumber(ARGV[b_at + i])] = true end

-- A new immediate message joins the tail of its priority's fresh list (seq order is push order:
-- seqs are taken above, atomically); a periodic or replaced one keeps a place by seq in `ready`.
-- With limits on the queue (`lt` in the clock hash), an immediate message of a limited topic
-- goes where limits.lua says (parked behind its group, or ready as its group's released one).
local limited = (tonumber(redis.call('HGET', KEYS[12], 'lt')) or 0) > 0
local lk = { msg = msg, ready = ready, lease = lease, clock = KEYS[12], notify = KEYS[6] }
local function place(id, seq, prio, at, fresh)
  if at then now = now or now_ms() end
  if at and at > now then
    redis.call('ZADD', delayed, at, id)
  elseif limited and fresh and place_limited(lk, id, redis.call('HGET', msg, id)) then
    -- placed by its limits
  elseif fresh then
    redis.call('RPUSH', KEYS[9 + tonumber(prio)], id)
  else
    redis.call('ZADD', ready, tonumber(prio) * PRIO_UNIT + seq, id)
  end
  -- A blocked consumer also wakes for a delayed message: it then blocks until that one is due.
  woken = true
end

-- A debounced message whose id exists: a running one keeps it as its follow-up (`next` hash;
-- settle.lua puts it in place at the settlement); a waiting one is replaced by it, keeping its
-- seq, due at the new time.
local function debounce(id, s_seq, s_prio, rest, prio, at)
  if redis.call('HEXISTS', lease, id) == 1 then
    redis.call('HSET', string.sub(msg, 1, #msg - 3) .. 'next', id, rest)
    return
  end
  local where = forget_limited(lk, id, now_ms())
  if not where and redis.call('ZREM', ready, id) == 0 and redis.call('ZREM', delayed, id) == 0 then
    void_fresh(KEYS[12], tonumber(s_prio) + 1, id)
  end
  redis.call('HSET', msg, id, s_seq .. '|' .. rest)
  place(id, tonumber(s_seq), prio, at, false)
end

for i = 1, n do
  local j = 2 + (i - 1) * 5
  local id, schedule, rest = ARGV[j], ARGV[j + 3], ARGV[j + 4]
  local seq = base + i
  local window = windows[i]
  local held = false
  if window then
    local owner = redis.call('GET', window.key)
    held = owner ~= false and owner ~= origin
  end
  if held then
    out[i] = 0
  elseif redis.call('HSETNX', msg, id, string.format('%d|', seq) .. rest) == 1 then
    this_call[id] = true
    if window then redis.call('SET', window.key, origin, 'PX', window.ms) end
    place(id, seq, ARGV[j + 1], tonumber(ARGV[j + 2]), schedule == '')
    if schedule ~= '' then redis.call('HSET', sched, id, schedule) end
    out[i] = 1
  else
    local stored = redis.call('HGET', msg, id)
    local s_seq, s_prio, s_attempt, s_stalls, s_at, s_pos = string.match(stored, HEADER)
    local prio, new_at, r_pos = string.match(rest, REST)
    local body = string.sub(rest, r_pos)
    if s_seq and not this_call[id] and string.sub(stored, s_pos) == body then
      out[i] = 1
    elseif debounced[i] and s_seq then
      out[i] = 0
      debounce(id, s_seq, s_prio, rest, prio, tonumber(new_at))
    else
      out[i] = 0
      if schedule ~= '' then
        if s_seq and redis.call('HEXISTS', lease, id) == 1 then
          -- Running: the run in progress keeps its lease; its requeue keeps this definition.
          redis.call('HSET', msg, id, s_seq .. '|' .. prio .. '|' .. s_attempt .. '|' .. s_stalls
            .. '|' .. s_at .. '|' .. body)
        else
          local keep = s_seq ~= nil and redis.call('HGET', sched, id) == schedule
          local due = redis.call('ZSCORE', delayed, id)
          if redis.call('ZREM', ready, id) == 0 and not due and s_prio then
            -- Waiting in its fresh list (it was not periodic): that entry is voided.
            void_fresh(KEYS[12], tonumber(s_prio) + 1, id)
          end
          redis.call('ZREM', delayed, id)
          local at = tonumber(new_at)
          local at_text = new_at
          if keep then
            at = tonumber(due)
            if due then at_text = due else at_text = s_at end
          end
          local keep_seq = tonumber(s_seq) or seq
          redis.call('HSET', msg, id, keep_seq .. '|' .. prio .. '|1|0|' .. at_text .. '|' .. body)
          place(id, keep_seq, prio, at, false)
        end
        redis.call('HSET', sched, id, schedule)
      end
    end
  end
end
if woken then wake(KEYS[6]) end
return out
