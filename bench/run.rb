# frozen_string_literal: true

# session_bridge's native path against what a Rails app would write instead (redis-rb with the
# ruby or hiredis driver, JSON.generate / JSON.parse, SecureRandom.hex) and against Redis' own
# limit (redis-benchmark), every figure measured side by side in one run against a redis-server
# this script starts on a free loopback port. Prints markdown; a full run also rewrites the
# generated part of bench/RESULTS.md.
#
#   bin/bench            # full run, about 2.5 minutes
#   bin/bench --short    # or BENCH_SHORT=1: a few operations per figure, proves it works (CI)

$LOAD_PATH.unshift(File.expand_path("../lib", __dir__))
require "json"
require "securerandom"
require "redis"
require "session_bridge"
require_relative "../spec/support/redis_server"
require_relative "support/payloads"
require_relative "support/loops"
require_relative "support/redis_counters"
require_relative "support/redis_benchmark"
require_relative "support/command_capture"
require_relative "support/cpu_latency"
require_relative "support/runner"
require_relative "support/machine"
require_relative "support/report"
require_relative "support/render"

begin
  require "redis/connection/hiredis"
rescue LoadError
  nil # the hiredis rows are left out
end

module Bench
  SHORT = ARGV.include?("--short") || !ENV.fetch("BENCH_SHORT", "").empty?
  # Seconds per measured run, runs per figure (the best is shown), seconds of warm-up.
  TIMING = SHORT ? { duration: 0.02, repetitions: 1, warm_up: 0.01 } : { duration: 0.3, repetitions: 7, warm_up: 0.2 }
  THREADS = [1, 2, 4, 8].freeze
  STORE_KEY = SessionBridge::Configuration::DEFAULTS.fetch(:store_key)
  SESSION_ID = "b0c4f1a2e3d45f6a7b8c9d0e1f2a3b4c" # a Rails session id, hashed into the token
  # redis-benchmark's field: __rand_int__ becomes 12 digits, so the field is 32 characters, a token's length.
  RANDOM_FIELD = "__rand_int__#{'f' * 20}"
  CODEC_LIMIT = 1 << 20 # dump_json's max_bytes: no payload here comes near it
  NATIVE = "session_bridge (native)"
  # A call from a process's only Ruby thread takes another path through Ruby and the binding (see
  # RESULTS.md, "Where the time goes"), so the native path is measured both ways: alone in the main
  # thread (a script, a single-threaded server) and from a second thread (Puma or Sidekiq).
  NATIVE_MAIN = "#{NATIVE}, main thread"
  NATIVE_WORKER = "#{NATIVE}, worker thread"
  RUBY = "redis-rb, ruby driver"
  HIREDIS = "redis-rb, hiredis driver"
  RESULTS = File.expand_path("RESULTS.md", __dir__)
  BEGIN_MARK = "<!-- bench/run.rb writes everything from here to the end marker -->"
  END_MARK = "<!-- end of bench/run.rb output -->"

  module_function

  def main
    cpu_idle = CpuLatency.hold
    server = RedisServer.start
    control = Redis.new(url: server.url, driver: :ruby)
    SessionBridge.configure do |config|
      config.redis_url = server.url
      config.pool_size = THREADS.max # every thread keeps its connection between calls
    end
    markdown = run_all(server, control, cpu_idle)
    puts markdown
    write_results(markdown) unless SHORT
  ensure
    server&.cleanup
    CpuLatency.release
  end

  def run_all(server, control, cpu_idle)
    session = Payloads.small
    check_round_trip(session, control)
    native_command = capture_native_publish(server, control, session)
    counters = RedisCounters.new(control)
    # Every publish adds entries (and index entries): start each run from an empty database.
    redis_runner = Runner.new(counters: counters, between_runs: -> { control.flushdb }, **TIMING)
    clients = ruby_clients(server.url)

    publish = step("publish, 1 thread") do
      redis_runner.compare(publish_variants(session, clients).merge(limits(server, session, 1, native_command)))
    end
    token = SessionBridge.publish(session, session_id: SESSION_ID)
    fetch_runner = Runner.new(counters: counters, **TIMING)
    fetch = step("fetch, 1 thread") { fetch_runner.compare(fetch_variants(server, token, clients)) }
    threads = THREADS.to_h do |count|
      variants = thread_variants(session, count, clients).merge(limits(server, session, count, native_command))
      [count, step("publish from #{count} thread#{'s' if count > 1}") { redis_runner.compare(variants) }]
    end
    codec = step("JSON codec") { codec_results(Runner.new(counters: NoCounters, **TIMING)) }

    render(server, control, redis_runner, cpu_idle,
           publish: publish, fetch: fetch, threads: threads, codec: codec)
  end

  # Redis clients by driver: the first is used alone, the others join it in the thread runs.
  def ruby_clients(url)
    drivers = { RUBY => :ruby }
    drivers[HIREDIS] = :hiredis if defined?(::Hiredis)
    drivers.transform_values { |driver| Array.new(THREADS.max) { Redis.new(url: url, driver: driver) } }
  end

  def publish_variants(session, clients)
    publish = -> { SessionBridge.publish(session, session_id: SESSION_ID) }
    variants = { NATIVE_MAIN => Loop.new(&publish), NATIVE_WORKER => ThreadedLoop.new([publish]) }
    clients.each { |label, (redis, *)| variants[label] = Loop.new(&ruby_publish(redis, session)) }
    variants
  end

  def fetch_variants(server, token, clients)
    fetch = -> { SessionBridge.fetch(token) }
    variants = { NATIVE_MAIN => Loop.new(&fetch), NATIVE_WORKER => ThreadedLoop.new([fetch]) }
    clients.each do |label, (redis, *)|
      variants[label] = Loop.new { JSON.parse(redis.hget(STORE_KEY, token)) }
    end
    variants.merge(limit_label(1, "HGET") => RedisBenchmark.new(port: server.port, clients: 1,
                                                                 command: ["HGET", STORE_KEY, token]))
  end

  # One Redis instance shared by every thread (redis-rb serialises calls with a mutex), or one each.
  def thread_variants(session, count, clients)
    native = -> { SessionBridge.publish(session, session_id: SESSION_ID) }
    variants = { "#{NATIVE}, one configuration" => ThreadedLoop.new(Array.new(count, native)) }
    clients.each do |label, (shared, *)|
      variants["#{label}, one shared connection"] = ThreadedLoop.new(Array.new(count) { ruby_publish(shared, session) })
    end
    clients.each do |label, redises|
      variants["#{label}, connection per thread"] =
        ThreadedLoop.new(redises.first(count).map { |redis| ruby_publish(redis, session) })
    end
    variants
  end

  def ruby_publish(redis, session)
    -> { redis.hset(STORE_KEY, SecureRandom.hex(16), JSON.generate(session)) }
  end

  # redis-benchmark with `count` connections: the plain HSET a Ruby app would send, and the very
  # command the native publish sends (its token replaced by a random field), the limit for the
  # same work in Redis.
  def limits(server, session, count, native_command)
    hset = ["HSET", STORE_KEY, RANDOM_FIELD, JSON.generate(session)]
    variants = { limit_label(count, "HSET") => RedisBenchmark.new(port: server.port, clients: count, command: hset) }
    return variants unless native_command

    variants.merge(same_command_label(count, native_command) =>
                     RedisBenchmark.new(port: server.port, clients: count, command: native_command))
  end

  def limit_label(count, command)
    "redis-benchmark -c #{count}, #{command}"
  end

  def same_command_label(count, native_command)
    "redis-benchmark -c #{count}, the native #{native_command.first.upcase}"
  end

  # What one native publish sends, as redis-benchmark arguments; nil when it is more than one
  # command (redis-benchmark -P 1 sends one command per request, so it could not replay it).
  def capture_native_publish(server, control, session)
    token = nil
    commands = CommandCapture.commands(server.port, control) do
      token = SessionBridge.publish(session, session_id: SESSION_ID)
    end
    control.flushdb
    return nil unless commands.size == 1

    commands.first.map { |argument| argument.gsub(token, RANDOM_FIELD) }
  end

  def codec_results(runner)
    Payloads.all.to_h do |size, data|
      json = JSON.generate(data)
      dump = runner.compare("native" => Loop.new(batch: 32) { SessionBridge::Native.dump_json(data, CODEC_LIMIT) },
                            "json" => Loop.new(batch: 32) { JSON.generate(data) })
      load = runner.compare("native" => Loop.new(batch: 32) { SessionBridge::Native.load_json(json) },
                            "json" => Loop.new(batch: 32) { JSON.parse(json) })
      [size, { bytes: json.bytesize, dump: dump, load: load }]
    end
  end

  # Every variant must store and read back the same thing, or its speed means nothing.
  def check_round_trip(session, control)
    expected = JSON.parse(JSON.generate(session))
    token = SessionBridge.publish(session, session_id: SESSION_ID)
    stored = control.hget(STORE_KEY, token)
    raise "native publish stored #{stored.inspect}" unless JSON.parse(stored) == expected
    raise "native fetch disagrees with JSON.parse" unless SessionBridge.fetch(token) == expected

    Payloads.all.each do |size, data|
      native = SessionBridge::Native.dump_json(data, CODEC_LIMIT)
      same = JSON.parse(native) == JSON.parse(JSON.generate(data)) &&
             SessionBridge::Native.load_json(native) == JSON.parse(native)
      raise "the native codec disagrees with the json gem on the #{size} payload" unless same
    end
    control.flushdb
  end

  # The codec figures involve no Redis.
  module NoCounters
    def self.measure
      [yield, RedisCounters::Counts.zero]
    end
  end
end

Bench.main
