-- Shared by every session_bridge script. KEYS[1] is the store hash, KEYS[2] the expiry index
-- (a sorted set: field -> expiry in ms since the epoch, Redis time), KEYS[3] the owner hash
-- (field -> user id). ARGV[1] is the prefix of per-user sets ("<store_key>:user:"), ARGV[2]
-- the channel where removed fields are published.
local function now_ms()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end

-- Removes one entry and everything that points at it; returns 1 if the entry existed.
local function remove(field)
  local removed = redis.call('HDEL', KEYS[1], field)
  redis.call('ZREM', KEYS[2], field)
  local owner = redis.call('HGET', KEYS[3], field)
  if owner then
    redis.call('HDEL', KEYS[3], field)
    redis.call('SREM', ARGV[1] .. owner, field)
  end
  if removed == 1 then
    redis.call('PUBLISH', ARGV[2], field)
  end
  return removed
end

-- Removes up to `limit` expired entries; returns how many.
local function sweep(now, limit)
  local expired = redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', now, 'LIMIT', 0, limit)
  for _, field in ipairs(expired) do
    remove(field)
  end
  return #expired
end
