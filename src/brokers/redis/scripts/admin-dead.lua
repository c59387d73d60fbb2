-- admin-dead.lua: replays dead letters to ready, or deletes them.
-- KEYS[1..13] msg, lease, ready, delayed, running, dead, notify, sched, consumers, clock, fresh:0-2
-- KEYS[14] seq counter
-- ARGV[1] 'replay' or 'delete'   ARGV[2] '*' for all, else the ids follow from ARGV[3]
-- A replayed message gets attempt 1, stalls 0, no due time and a new place behind the ready
-- messages of its priority. A dead letter whose id a live message holds, or whose stored form
-- is unreadable (malformed, evicted), is not replayed and stays.
-- Returns the number replayed or deleted.
-- The design (keys, message states, queue clock, fencing, memos): docs/redis-design.md
local k = state_keys(1)
local all = ARGV[2] == '*'
local wanted = {}
for i = 3, #ARGV do wanted[ARGV[i]] = true end
local entries = redis.call('LRANGE', k.dead, 0, -1)
local kept = {}
local done = 0
local woken = false
for _, raw in ipairs(entries) do
  local ok, entry = pcall(cjson.decode, raw)
  local id = ok and type(entry) == 'table' and entry[1] or nil
  local hit = id ~= nil and (all or wanted[id])
  if hit and ARGV[1] == 'delete' then
    done = done + 1
  elseif hit and type(entry[4]) == 'string' and redis.call('HEXISTS', k.msg, id) == 0 then
    local seq, prio, attempt, stalls, at, pos = string.match(entry[4], HEADER)
    if seq then
      local new_seq = redis.call('INCR', KEYS[STATE_N + 1])
      redis.call('HSET', k.msg, id,
        new_seq .. '|' .. prio .. '|1|0||' .. string.sub(entry[4], pos))
      redis.call('ZADD', k.ready, tonumber(prio) * PRIO_UNIT + new_seq, id)
      done = done + 1
      woken = true
    else
      kept[#kept + 1] = raw
    end
  else
    kept[#kept + 1] = raw
  end
end
if done > 0 then
  redis.call('DEL', k.dead)
  for i = 1, #kept, 1000 do
    redis.call('RPUSH', k.dead, unpack(kept, i, math.min(i + 999, #kept)))
  end
end
if woken then wake(k.notify) end
return done
