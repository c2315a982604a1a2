-- ARGV[3] field, ARGV[4] lifetime in ms. Extends a live entry's expiry; returns 1, or 0 when the
-- entry is absent or already expired (then it is removed).
local field, ttl = ARGV[3], tonumber(ARGV[4])
if redis.call('HEXISTS', KEYS[1], field) == 0 then
  return 0
end
local now = now_ms()
local expires = redis.call('ZSCORE', KEYS[2], field)
if expires and tonumber(expires) <= now then
  remove(field)
  return 0
end
redis.call('ZADD', KEYS[2], now + ttl, field)
return 1
