-- counts.lua: housekeeping of one queue (as a receive round that leases nothing), then the sizes
-- of its structures, in one atomic step.
-- KEYS[1..13] msg, lease, ready, delayed, running, dead, notify, sched, consumers, clock, fresh:0-2
-- ARGV[1] maxStalls   ARGV[2] maxDeadLetters   ARGV[3] housekeeping limit
-- Returns { ready, delayed, running, dead, evicted, { topic, parked, ... } (limits.lua) }.
-- The design (keys, message states, queue clock, fencing, memos): docs/redis-design.md
local k = state_keys(1)
local now = now_ms()
local qnow, _, lt = queue_clock(k.clock, now)
local evicted = housekeep(k, now, qnow, tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3]))
if lt > 0 then release_due(k, now, tonumber(ARGV[3])) end
local ready = ready_size(k)
if ready > 0 and redis.call('HGET', k.clock, 'paused') ~= '1' then
  wake(k.notify)
end
return {
  ready,
  redis.call('ZCARD', k.delayed),
  redis.call('ZCARD', k.running),
  redis.call('LLEN', k.dead),
  evicted,
  redis.call('HGETALL', lim_base(k) .. 'gcount'),
}
