# frozen_string_literal: true

# Runs publish + fetch + revoke cycles against a redis-server it starts, printing the process's
# RSS at intervals. After warm-up RSS must stay flat: growth over 10 MB is reported as a failure.
#
#   bundle exec ruby bench/memory.rb            # 1,000,000 cycles
#   bundle exec ruby bench/memory.rb 20000      # fewer, as CI runs it
$LOAD_PATH.unshift(File.expand_path("../lib", __dir__))
require "session_bridge"
require_relative "../spec/support/redis_server"

$stdout.sync = true
cycles = Integer(ARGV.fetch(0, 1_000_000))
report_every = [cycles / 10, 1].max
warm_up = [cycles / 10, 1].max
limit_kb = 10 * 1024

def rss_kb
  File.read("/proc/self/status")[/^VmRSS:\s+(\d+)/, 1].to_i
end

server = RedisServer.start
begin
  SessionBridge.configure { |c| c.redis_url = server.url }
  data = { "user_id" => 42, "username" => "ada@example.com", "roles" => %w[admin editor], "flags" => { "beta" => true } }
  baseline = nil
  peak = 0
  started = Process.clock_gettime(Process::CLOCK_MONOTONIC)
  puts format("%12s %10s %12s", "cycles", "RSS (MB)", "growth (MB)")
  1.upto(cycles) do |i|
    token = SessionBridge.publish(data, session_id: "s", user_id: 42)
    SessionBridge.fetch(token) || abort("fetch lost an entry at cycle #{i}")
    SessionBridge.revoke(token) || abort("revoke found nothing at cycle #{i}")
    baseline = rss_kb if i == warm_up
    next unless (i % report_every).zero?

    GC.start
    rss = rss_kb
    growth = baseline ? rss - baseline : 0
    peak = growth if growth > peak
    puts format("%12d %10.1f %12.1f", i, rss / 1024.0, growth / 1024.0)
  end
  seconds = Process.clock_gettime(Process::CLOCK_MONOTONIC) - started
  puts format("%d cycles in %.1f s (%.0f cycles/s); growth after warm-up: %.1f MB (limit 10 MB)",
              cycles, seconds, cycles / seconds, peak / 1024.0)
  if peak > limit_kb
    puts "0 passed, 1 failed"
    exit 1
  end
  puts "1 passed, 0 failed"
ensure
  server.cleanup
end
