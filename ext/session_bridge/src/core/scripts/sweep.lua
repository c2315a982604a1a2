-- ARGV[3] batch size. Removes up to that many expired entries; returns how many.
return sweep(now_ms(), tonumber(ARGV[3]))
