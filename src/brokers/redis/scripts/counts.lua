-- counts.lua: housekeeping of one queue (as a receive round that leases nothing), then the sizes
-- of its structures, in one atomic step.
-- KEYS[1..10] msg, lease, ready, delayed, running, dead, notify, sched, consumers, clock
-- ARGV[1] maxStalls   ARGV[2] maxDeadLetters   ARGV[3] housekeeping limit
-- Returns { ready, delayed, running, dead, evicted }.
local k = state_keys(1)
local now = now_ms()
local qnow = queue_clock(k.clock, now)
local evicted = housekeep(k, now, qnow, tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3]))
if redis.call('ZCARD', k.ready) > 0 and redis.call('HGET', k.clock, 'paused') ~= '1' then
  wake(k.notify)
end
return {
  redis.call('ZCARD', k.ready),
  redis.call('ZCARD', k.delayed),
  redis.call('ZCARD', k.running),
  redis.call('LLEN', k.dead),
  evicted,
}
