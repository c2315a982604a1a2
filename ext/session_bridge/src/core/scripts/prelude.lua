-- Shared by every session_bridge script. KEYS[1] is the store hash, KEYS[2] the expiry index
-- (a sorted set: field -> expiry in ms since the epoch, Redis time). ARGV[1] is the prefix of
-- per-user hashes ("<store_key>:user:", field -> ""), ARGV[2] the channel where removed fields
-- are published.
local function now_ms()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end

-- Removes one entry and its expiry; announces it and returns 1 if it existed. A per-user hash may
-- keep the field: it is pruned as its user signs in, and dropped by revoke_user.
local function remove(field)
  local removed = redis.call('HDEL', KEYS[1], field)
  redis.call('ZREM', KEYS[2], field)
  if removed == 1 then
    redis.call('PUBLISH', ARGV[2], field)
  end
  return removed
end

-- Removes up to `limit` expired entries, three commands for the batch plus one announcement each
-- (the expired fields are the lowest ranks of the index, so one ZREMRANGEBYRANK drops them);
-- returns how many.
local function sweep(now, limit)
  local expired = redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', now, 'LIMIT', 0, limit)
  if #expired == 0 then
    return 0
  end
  redis.call('HDEL', KEYS[1], unpack(expired))
  redis.call('ZREMRANGEBYRANK', KEYS[2], 0, #expired - 1)
  for _, field in ipairs(expired) do
    redis.call('PUBLISH', ARGV[2], field)
  end
  return #expired
end
