-- common.lua: helpers shared by every repid script. The loader prepends this file to each
-- script before SCRIPT LOAD, so it declares no KEYS or ARGV of its own.
--
-- Stored message (one field of the queue's `msg` hash, keyed by message id):
--   <seq>|<priority 0-2>|<attempt>|<stalls>|<executeAt or empty>|<body>
-- The body is opaque here (the client encodes and decodes it). `seq` is the original enqueue
-- order, kept for life so that a requeued or recovered message returns to its place.
-- Ready score: priority * 2^44 + seq (exact in a double: both parts stay below 2^53).
-- Dead letter (one element of the queue's `dead` list): cjson [id, failedAt, errorJson, stored|false].

local PRIO_UNIT = 17592186044416
local HEADER = '^(%d+)|([012])|(%d+)|(%d+)|(%d*)|()'

-- Redis server time in epoch ms: one clock for every lease and delay, whatever the clients' skew.
local function now_ms()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end

local function bury(dead, max_dead, id, stored, error_json, now)
  redis.call('RPUSH', dead, cjson.encode({ id, now, error_json, stored or false }))
  redis.call('LTRIM', dead, -max_dead, -1)
end

-- A message whose stored form cannot be read: out of every structure, into the dead letters.
local function malformed(msg, lease, dead, max_dead, id, stored, now)
  redis.call('HDEL', msg, id)
  redis.call('HDEL', lease, id)
  bury(dead, max_dead, id, stored, cjson.encode({
    name = 'MalformedMessageError',
    code = 'MALFORMED',
    message = 'Stored message could not be decoded',
  }), now)
end

local function wake(notify)
  if redis.call('LLEN', notify) == 0 then
    redis.call('RPUSH', notify, '1')
  end
end
