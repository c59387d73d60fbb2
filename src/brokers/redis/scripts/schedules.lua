-- schedules.lua: the periodic messages of one queue, from its index of periodic ids.
-- KEYS[1] msg hash   KEYS[2] lease hash   KEYS[3] delayed zset   KEYS[4] sched hash
-- ARGV: none
-- Returns { id1, stored1, state1, dueAt1, ... }: state 'running', 'delayed' (dueAt its due time,
-- else '') or 'ready'. Ids whose message is gone are dropped from the index.
-- The design (keys, message states, queue clock, fencing, memos): docs/redis-design.md
local out = {}
local index = redis.call('HKEYS', KEYS[4])
for _, id in ipairs(index) do
  local stored = redis.call('HGET', KEYS[1], id)
  if stored then
    local state, due = 'ready', ''
    if redis.call('HEXISTS', KEYS[2], id) == 1 then
      state = 'running'
    else
      local score = redis.call('ZSCORE', KEYS[3], id)
      if score then state, due = 'delayed', score end
    end
    out[#out + 1] = id
    out[#out + 1] = stored
    out[#out + 1] = state
    out[#out + 1] = due
  else
    redis.call('HDEL', KEYS[4], id)
  end
end
return out
