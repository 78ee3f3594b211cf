// Latest wins in Redis (docs/latest-wins.md): one hash per entity key — `m` the newest applied
// timestamp, `h` the token of the delivery holding it, `u` when that hold lapses — so each step is
// one script on one key: atomic, one round trip, and safe on a Redis Cluster whatever the prefix.
// Hold leases run on Redis's own clock, so instances with skewed clocks agree on them.

/** KEYS[1] the entity; ARGV timestamp (ms), token, lease (ms). Returns 0 superseded, 1 busy, 2 held. */
export const HOLD_SCRIPT = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local f = redis.call('HMGET', KEYS[1], 'm', 'h', 'u')
if f[1] and tonumber(f[1]) > tonumber(ARGV[1]) then return 0 end
if f[2] and tonumber(f[3]) >= now then return 1 end
redis.call('HSET', KEYS[1], 'h', ARGV[2], 'u', now + tonumber(ARGV[3]))
if redis.call('PTTL', KEYS[1]) < tonumber(ARGV[3]) then redis.call('PEXPIRE', KEYS[1], ARGV[3]) end
return 2`;

/**
 * KEYS[1] the entity; ARGV token, timestamp (ms) or '' to release without applying, retention (ms).
 * Lets go of the hold if it is still this token's; raises the mark, never lowers it.
 */
export const SETTLE_SCRIPT = `
if redis.call('HGET', KEYS[1], 'h') == ARGV[1] then redis.call('HDEL', KEYS[1], 'h', 'u') end
if ARGV[2] ~= '' then
  local m = redis.call('HGET', KEYS[1], 'm')
  if not m or tonumber(m) < tonumber(ARGV[2]) then redis.call('HSET', KEYS[1], 'm', ARGV[2]) end
  if redis.call('PTTL', KEYS[1]) < tonumber(ARGV[3]) then redis.call('PEXPIRE', KEYS[1], ARGV[3]) end
end
return 1`;

/** The script's answer as a `HoldResult` status. */
export const HOLD_STATUS = ['superseded', 'busy', 'held'] as const;

/** KEYS[1] the entity; ARGV token, lease (ms). Extends the hold while it is still this token's: 1, else 0. */
export const RENEW_SCRIPT = `
if redis.call('HGET', KEYS[1], 'h') ~= ARGV[1] then return 0 end
local t = redis.call('TIME')
redis.call('HSET', KEYS[1], 'u', tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000) + tonumber(ARGV[2]))
if redis.call('PTTL', KEYS[1]) < tonumber(ARGV[2]) then redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return 1`;
