-- ARGV[3] user id. Removes every entry of that user; returns how many were live.
local key = ARGV[1] .. ARGV[3]
local count = 0
for _, field in ipairs(redis.call('HKEYS', key)) do
  count = count + remove(field)
end
redis.call('DEL', key)
return count
