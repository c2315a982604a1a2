-- ARGV[3] field, ARGV[4] JSON, ARGV[5] lifetime in ms (0: never expires), ARGV[6] user id
-- ('' for none), ARGV[7] how many expired entries to sweep on the way.
-- The sweep comes first: at maxmemory Redis refuses a script's first write that can grow memory,
-- but not one after the script has freed some, so a store full of expired entries heals itself.
local now = now_ms()
local field, ttl, user = ARGV[3], tonumber(ARGV[5]), ARGV[6]
sweep(now, tonumber(ARGV[7]))
redis.call('HSET', KEYS[1], field, ARGV[4])
if ttl > 0 then
  redis.call('ZADD', KEYS[2], now + ttl, field)
else
  redis.call('ZREM', KEYS[2], field)
end
if user ~= '' then
  local key = ARGV[1] .. user
  -- Once a user has a few fields, two of them are checked on the way, so the hash holds the
  -- user's live entries and a handful of others, without an owner index per entry. (A small hash
  -- is a listpack in Redis, less than half the memory of a set of the same fields.)
  if redis.call('HLEN', key) >= 8 then
    for _, old in ipairs(redis.call('HRANDFIELD', key, 2)) do
      if redis.call('HEXISTS', KEYS[1], old) == 0 then
        redis.call('HDEL', key, old)
      end
    end
  end
  redis.call('HSET', key, field, '')
end
return 1
