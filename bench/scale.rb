# frozen_string_literal: true

# At scale, side by side in one run against redis-servers this script starts: publish with a
# million entries in the store (half of them expired) against its own rate on an empty store and
# redis-rb's HSET; Redis' latency while SessionBridge.sweep removes half a million expired entries
# against Redis' own expiry of as many keys; Redis memory per session against a plain HSET and a
# key per session with EX. Prints markdown tables.
#
#   ruby bench/scale.rb           # full run: 1,000,000 entries, about 2 minutes
#   ruby bench/scale.rb --short   # 20,000 entries: proves it works (CI), never fails on speed

$LOAD_PATH.unshift(File.expand_path("../lib", __dir__))
require "json"
require "redis"
require "securerandom"
require "session_bridge"
require_relative "../spec/support/redis_server"
require_relative "support/payloads"
require_relative "support/machine"

module Scale
  SHORT = ARGV.include?("--short") || !ENV.fetch("BENCH_SHORT", "").empty?
  ENTRIES = SHORT ? 20_000 : 1_000_000
  SECONDS = SHORT ? 0.2 : 3.0
  MEMORY_SESSIONS = SHORT ? 2_000 : 100_000
  SESSIONS_PER_USER = 10
  STORE = "mySessionStore"
  SESSION = Bench::Payloads.small.freeze
  JSON_ENTRY = JSON.generate(SESSION)

  # Fills the store server-side (one script per 50,000 entries): gem-shaped entries, the first
  # `expired` of them already past their expiry, 10 per user.
  FILL = <<~LUA
    local now = redis.call('TIME')
    local now_ms = tonumber(now[1]) * 1000
    local from, count, expired = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
    for i = from, from + count - 1 do
      local field = string.format('%032x', i)
      redis.call('HSET', KEYS[1], field, ARGV[4])
      redis.call('ZADD', KEYS[2], i <= expired and now_ms - 1000 or now_ms + 86400000, field)
      redis.call('HSET', KEYS[3] .. math.floor(i / 10), field, '')
    end
    return count
  LUA

  module_function

  def main
    servers = []
    start = ->(*args) { RedisServer.start(extra_args: args).tap { |server| servers << server } }
    puts "# Scale (#{SHORT ? 'short run, figures meaningless' : 'full run'})"
    puts
    Bench::Machine.details(redis_version: `redis-server --version`[/v=(\S+)/, 1], redis_benchmark_version: "-")
                  .reject { |name, _| name == "Ruby alternatives" }.each { |name, value| puts "- #{name}: #{value}" }
    puts
    publish_table(start.call)
    sweep_table(start.call, start.call("--enable-debug-command", "local"))
    memory_table(start.call)
  ensure
    servers.each(&:cleanup)
  end

  def fill(redis, entries, expired)
    script = redis.script(:load, FILL)
    (1..entries).step(50_000) do |from|
      redis.evalsha(script, keys: [STORE, "#{STORE}:expires", "#{STORE}:user:"],
                            argv: [from, [50_000, entries - from + 1].min, expired, JSON_ENTRY])
    end
  end

  # Calls per second for SECONDS, and the 99th percentile of one call in ms.
  def rate
    latencies = []
    deadline = now + SECONDS
    while now < deadline
      started = now
      yield
      latencies << now - started
    end
    sorted = latencies.sort
    [latencies.size / latencies.sum, sorted[(sorted.size * 0.99).floor] * 1000]
  end

  def now
    Process.clock_gettime(Process::CLOCK_MONOTONIC)
  end

  def publish_table(server)
    redis = Redis.new(url: server.url, timeout: 60)
    SessionBridge.configure { |c| c.redis_url = server.url }
    user = 0
    publish = -> { SessionBridge.publish(SESSION, user_id: (user += 1) % 10_000) }
    hset = -> { redis.hset(STORE, SecureRandom.hex(16), JSON_ENTRY) }
    rows = []
    empty_publish = rate(&publish)
    empty_hset = rate(&hset)
    redis.flushall
    fill(redis, ENTRIES, ENTRIES / 2)
    full_publish = rate(&publish)
    full_hset = rate(&hset)
    rows << ["empty store", *empty_publish, *empty_hset]
    rows << ["#{ENTRIES.to_s.reverse.scan(/\d{1,3}/).join(',').reverse} entries, half expired", *full_publish, *full_hset]
    puts "## Publish with a full store (1 thread, #{SECONDS} s per figure, default sweep_batch)"
    puts
    puts "| store | publish/s | publish p99 (ms) | redis-rb HSET/s | HSET p99 (ms) | publish / HSET |"
    puts "| --- | ---: | ---: | ---: | ---: | ---: |"
    rows.each do |name, publish_rate, publish_p99, hset_rate, hset_p99|
      puts format("| %s | %d | %.3f | %d | %.3f | %.2f× |", name, publish_rate, publish_p99, hset_rate, hset_p99,
                  publish_rate / hset_rate)
    end
    puts
    puts format("Full against empty: publish %.2f× the rate, p99 %.2f× (targets: ≥ 0.8×, ≤ 2×).",
                full_publish[0] / empty_publish[0], full_publish[1] / empty_publish[1])
    puts
    redis.close
  end

  # PING latencies (ms) sampled by another client while the block runs; the block's seconds.
  def while_pinging(url)
    pinger = Redis.new(url: url, timeout: 60)
    samples = []
    running = true
    sampler = Thread.new do
      while running
        started = now
        pinger.ping
        samples << (now - started) * 1000
        sleep 0.001
      end
    end
    started = now
    yield
    seconds = now - started
    running = false
    sampler.join
    pinger.close
    sorted = samples.sort
    [seconds, sorted[sorted.size / 2], sorted[(sorted.size * 0.99).floor], sorted.last]
  end

  def sweep_table(gem_server, native_server)
    count = ENTRIES / 2
    gem_redis = Redis.new(url: gem_server.url, timeout: 60)
    fill(gem_redis, count, count)
    SessionBridge.configure { |c| c.redis_url = gem_server.url }
    swept = nil
    gem_row = while_pinging(gem_server.url) { swept = SessionBridge.sweep }
    abort "sweep removed #{swept}, not #{count}" unless swept == count

    native_redis = Redis.new(url: native_server.url, timeout: 60)
    native_redis.call("DEBUG", "SET-ACTIVE-EXPIRE", "0")
    native_redis.eval(<<~LUA, argv: [count, JSON_ENTRY])
      for i = 1, tonumber(ARGV[1]) do redis.call('SET', 's:' .. i, ARGV[2], 'PX', 1) end
    LUA
    sleep 0.01 # every key has expired; Redis' own expiry cycle removes them once it is on again
    native_row = while_pinging(native_server.url) do
      native_redis.call("DEBUG", "SET-ACTIVE-EXPIRE", "1")
      sleep 0.005 until native_redis.dbsize.zero?
    end
    puts "## Removing #{count.to_s.reverse.scan(/\d{1,3}/).join(',').reverse} expired entries, " \
         "while another client PINGs every millisecond"
    puts
    puts "| who removes them | seconds | PING p50 (ms) | PING p99 (ms) | PING max (ms) |"
    puts "| --- | ---: | ---: | ---: | ---: |"
    puts format("| `SessionBridge.sweep` | %.2f | %.2f | %.2f | %.2f |", *gem_row)
    puts format("| Redis' own expiry of keys set with PX | %.2f | %.2f | %.2f | %.2f |", *native_row)
    puts
    puts format("Sweep against Redis' own expiry: %.2f× the time (target ≤ 1.5×); PING p99 %.2f ms (target ≤ 2 ms).",
                gem_row[0] / native_row[0], gem_row[2])
    puts
    [gem_redis, native_redis].each(&:close)
  end

  def used_memory(redis)
    redis.info("memory")["used_memory"].to_i
  end

  def memory_table(server)
    redis = Redis.new(url: server.url, timeout: 60)
    SessionBridge.configure { |c| c.redis_url = server.url }
    rows = {
      "session_bridge publish, defaults (user_id, 10 sessions per user)" =>
        ->(i) { SessionBridge.publish(SESSION, user_id: i / SESSIONS_PER_USER) },
      "redis-rb HSET (the original design)" => ->(_) { redis.hset(STORE, SecureRandom.hex(16), JSON_ENTRY) },
      "redis-rb SET key EX (a key per session)" => ->(_) { redis.set("s:#{SecureRandom.hex(16)}", JSON_ENTRY, ex: 86_400) }
    }
    bytes = rows.transform_values do |write|
      redis.flushall
      before = used_memory(redis)
      MEMORY_SESSIONS.times { |i| write.call(i) }
      (used_memory(redis) - before).to_f / MEMORY_SESSIONS
    end
    plain = bytes.fetch("redis-rb HSET (the original design)")
    puts "## Redis memory per session (#{MEMORY_SESSIONS} sessions, used_memory before and after)"
    puts
    puts "| what | bytes per session | against HSET |"
    puts "| --- | ---: | ---: |"
    bytes.each { |name, value| puts format("| %s | %.0f | %.2f× |", name, value, value / plain) }
    puts
    redis.close
  end
end

Scale.main if $PROGRAM_NAME == __FILE__
