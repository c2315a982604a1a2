-- ARGV[3] field. Returns the JSON, or nil when absent or expired (an expired entry is removed).
local field = ARGV[3]
local json = redis.call('HGET', KEYS[1], field)
if not json then
  return false
end
local expires = redis.call('ZSCORE', KEYS[2], field)
if expires and tonumber(expires) <= now_ms() then
  remove(field)
  return false
end
return json
