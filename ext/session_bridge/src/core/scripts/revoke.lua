-- ARGV[3] field. Returns 1 if an entry was removed.
return remove(ARGV[3])
