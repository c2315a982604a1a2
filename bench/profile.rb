# frozen_string_literal: true

# Runs one benchmarked operation a fixed number of times and nothing else, for a profiler.
# Instruction counts (callgrind) are stable on a noisy machine; run two counts and subtract to get
# the cost of one operation without start-up:
#
#   valgrind --tool=callgrind --callgrind-out-file=/tmp/cg.%p \
#     bundle exec ruby bench/profile.rb native-publish 2000 [--thread]
#   callgrind_annotate --inclusive=yes /tmp/cg.<pid> | head -60
#   perf record -g -- bundle exec ruby bench/profile.rb native-publish 50000
#
# Operations: native-publish ruby-publish hiredis-publish native-fetch ruby-fetch hiredis-fetch
# dump-json-{small,medium,large} generate-{small,medium,large} load-json-{size} parse-{size}.
# --thread runs the loop in a second Ruby thread (as a Puma worker would) instead of the main one;
# --threads=N shares the count between N threads, each with its own redis-rb connection for ruby-*.
# SESSION_BRIDGE_LIB=dir loads dir/session_bridge/session_bridge.so first: an unstripped build
# (CARGO_PROFILE_RELEASE_STRIP=false CARGO_PROFILE_RELEASE_DEBUG=line-tables-only) names the Rust
# functions. REDIS_URL: use that server instead of starting one. Idle CPUs are kept polling as in
# bin/bench (BENCH_CPU_LATENCY=keep to leave them).

$LOAD_PATH.unshift(ENV["SESSION_BRIDGE_LIB"]) if ENV["SESSION_BRIDGE_LIB"]
$LOAD_PATH.push(File.expand_path("../lib", __dir__))
require "json"
require "securerandom"
require "redis"
require "session_bridge"
require_relative "../spec/support/redis_server"
require_relative "support/payloads"
require_relative "support/cpu_latency"

operation_name, count, *flags = ARGV
Bench::CpuLatency.hold
count = Integer(count || 1000)
server = RedisServer.start unless ENV["REDIS_URL"]
url = ENV.fetch("REDIS_URL") { server.url }
store_key = SessionBridge::Configuration::DEFAULTS.fetch(:store_key)
SessionBridge.configure { |config| config.redis_url = url }
session = Bench::Payloads.small
redis = lambda do |driver|
  require "redis/connection/hiredis" if driver == :hiredis
  Redis.new(url: url, driver: driver)
end
token = SessionBridge.publish(session, session_id: "profile")

operations = {
  "native-publish" => -> { -> { SessionBridge.publish(session, session_id: "profile") } },
  "native-fetch" => -> { -> { SessionBridge.fetch(token) } }
}
%i[ruby hiredis].each do |driver|
  operations["#{driver}-publish"] = lambda do
    client = redis.call(driver)
    -> { client.hset(store_key, SecureRandom.hex(16), JSON.generate(session)) }
  end
  operations["#{driver}-fetch"] = lambda do
    client = redis.call(driver)
    -> { JSON.parse(client.hget(store_key, token)) }
  end
end
Bench::Payloads.all.each do |size, data|
  json = JSON.generate(data)
  operations["dump-json-#{size}"] = -> { -> { SessionBridge::Native.dump_json(data, 1 << 20) } }
  operations["generate-#{size}"] = -> { -> { JSON.generate(data) } }
  operations["load-json-#{size}"] = -> { -> { SessionBridge::Native.load_json(json) } }
  operations["parse-#{size}"] = -> { -> { JSON.parse(json) } }
end

build = operations.fetch(operation_name) { abort "unknown operation; one of: #{operations.keys.join(' ')}" }
threads = flags.find { |flag| flag.start_with?("--threads=") }&.then { |flag| Integer(flag.split("=").last) }
threads ||= 1 if flags.include?("--thread")
per_thread = Array.new(threads || 1) { build.call } # for ruby-*: a connection each
per_thread.each(&:call) # connects, outside the count
started = Process.clock_gettime(Process::CLOCK_MONOTONIC)
if threads
  per_thread.map { |operation| Thread.new { (count / threads).times { operation.call } } }.each(&:join)
else
  count.times { per_thread.first.call }
end
elapsed = Process.clock_gettime(Process::CLOCK_MONOTONIC) - started
where = threads ? " in #{threads} thread#{'s' if threads > 1}" : " in the main thread"
warn format("%s x %d%s: %.2f µs each, %.0f per second", operation_name, count, where, elapsed / count * 1e6,
            count / elapsed)
server&.cleanup
