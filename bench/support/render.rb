# frozen_string_literal: true

module Bench
  module_function

  # The whole markdown: machine, method, one table per section, then the targets.
  def render(server, control, runner, cpu_idle, publish:, fetch:, threads:, codec:)
    bytes = JSON.generate(Payloads.small).bytesize
    sections = [
      SHORT ? "## Benchmark (short mode: a smoke test, the figures mean nothing)" : "## Benchmark",
      Report.table(%w[machine value], machine_rows(server, control, cpu_idle), labels: 2),
      method_note(runner),
      "### Summary (operations per second, best run)",
      summary_table(publish, fetch, threads),
      "### 1. publish: token + JSON + write, 1 thread, #{bytes}-byte session",
      redis_table(publish, publish_ratios(publish, 1).merge("redis-rb ruby" => publish.fetch(RUBY))),
      "### 2. fetch: read + JSON parse, 1 thread",
      redis_table(fetch, "redis-benchmark HGET" => fetch.fetch(limit_label(1, "HGET")),
                         "redis-rb ruby" => fetch.fetch(RUBY)),
      "### 3. publish from #{THREADS.join(', ')} threads: aggregate rate",
      threads_table(threads),
      "### 4. The JSON codec alone (no Redis): `Native.dump_json` / `load_json` against `JSON.generate` / `JSON.parse`",
      codec_table(codec),
      "### Targets",
      Report.targets(targets(publish, fetch, threads, codec))
    ]
    sections.join("\n\n") + "\n"
  end

  # One row per operation, one column per way of doing it: what a reader looks for first.
  def summary_table(publish, fetch, threads)
    count = THREADS.max
    eight = threads.fetch(count)
    rows = [
      ["publish, 1 thread", publish[NATIVE_WORKER], publish[NATIVE_MAIN], publish[RUBY], publish[HIREDIS],
       publish[limit_label(1, "HSET")], same_command(publish, 1)],
      ["fetch, 1 thread", fetch[NATIVE_WORKER], fetch[NATIVE_MAIN], fetch[RUBY], fetch[HIREDIS],
       fetch[limit_label(1, "HGET")], nil],
      ["publish, #{count} threads (redis-rb: the better of one shared connection and one per thread)",
       native_threaded(eight), nil, best_starting_with(eight, RUBY), best_starting_with(eight, HIREDIS),
       eight[limit_label(count, "HSET")], same_command(eight, count)]
    ]
    headers = ["operation", "session_bridge, worker thread", "session_bridge, main thread", "redis-rb ruby driver",
               "redis-rb hiredis driver", "redis-benchmark, plain HSET / HGET", "redis-benchmark, the native command"]
    Report.table(headers, rows.map { |label, *results| [label, *results.map { |r| r ? Report.rate(r.best) : "–" }] })
  end

  # Ratio columns for a publish table: Redis' limit for a plain HSET, for the very command the
  # native path sends (when it could be replayed), and the Ruby alternative.
  def publish_ratios(results, count)
    ratios = { "redis-benchmark HSET" => results.fetch(limit_label(count, "HSET")) }
    same = same_command(results, count)
    ratios["redis-benchmark, same command"] = same if same
    ratios
  end

  # redis-benchmark replaying the native command with `count` connections, when it could.
  def same_command(results, count)
    results.find { |label, _| label.start_with?("#{limit_label(count, 'the native')} ") }&.last
  end

  def best_starting_with(results, prefix)
    results.select { |label, _| label.start_with?(prefix) }.values.max_by(&:best)
  end

  def machine_rows(server, control, cpu_idle)
    details = Machine.details(redis_version: control.info("server").fetch("redis_version"),
                              redis_benchmark_version: RedisBenchmark.version)
    details.merge("Redis under test" => "#{server.url} (started by this run, no persistence)",
                  "CPU idle states" => cpu_idle).to_a
  end

  def method_note(runner)
    runs = "#{runner.repetitions} run#{'s' if runner.repetitions > 1}"
    <<~TEXT.chomp
      Each figure is the **best of #{runs} of #{runner.duration} s** (after a #{runner.warm_up} s warm-up; the median
      run is shown next to it): other work on the machine only slows a run down, so the fastest run is the
      closest to what the code allows. The variants of a table take turns run by run, so a busy moment hits
      them alike, and ratios divide best figures from this same run. Idle CPUs are kept polling when the
      benchmark may (row "CPU idle states"): on a virtual machine, waking a halted vCPU costs more than the
      code being measured, and whether it has halted depends on everything else the machine is doing.

      Every variant stores the same session
      (`#{JSON.generate(Payloads.small)}`)
      in the same Redis hash `#{STORE_KEY}`. The Ruby publish is
      `redis.hset(key, SecureRandom.hex(16), JSON.generate(data))`, the Ruby fetch
      `JSON.parse(redis.hget(key, token))`; the native ones are `SessionBridge.publish(data, session_id: ...)`
      and `SessionBridge.fetch(token)`. In tables 1 and 2 every variant runs in the main thread, and the native
      path also from a second thread ("worker thread", as under Puma or Sidekiq): a call from a process's
      only Ruby thread takes another path through Ruby and the binding (see "Where the time goes").
      Table 3 runs every variant in worker threads.

      The Redis columns are what Redis counted while the variant ran (INFO, read before and after each run):
      *commands/op* from `INFO commandstats` (commands a Lua script runs count too), *round trips/op* from
      `total_reads_processed` (requests Redis read), *connections opened* over all runs from
      `total_connections_received`. redis-benchmark opens its connections on every run, and its start-up
      `CONFIG GET`s are left out. Besides the plain `HSET` / `HGET` a Ruby app would send, redis-benchmark also
      replays the very command the native publish sends (read once with MONITOR before timing, its token
      replaced by a random field): the limit for the same work in Redis. *Client CPU* is the CPU time of this
      process (or of redis-benchmark) per operation, *Redis CPU* redis-server's (`INFO cpu`), socket I/O
      included.
    TEXT
  end

  def redis_table(results, ratios)
    Report.table(Report.redis_headers("variant", ratios), Report.redis_rows(results, ratios))
  end

  def threads_table(threads)
    headers = nil
    rows = threads.flat_map do |count, results|
      ratios = publish_ratios(results, count).merge("best redis-rb" => best_redis_rb(results))
      headers ||= ["threads", *Report.redis_headers("variant", ratios)]
      Report.redis_rows(results, ratios).map { |row| [count, *row] }
    end
    Report.table(headers, rows, labels: 2)
  end

  def best_redis_rb(results)
    best_starting_with(results, "redis-rb")
  end

  def native_threaded(results)
    results.find { |label, _| label.start_with?(NATIVE) }.last
  end

  def codec_table(codec)
    headers = ["payload", "operation", "session_bridge ops/s (best)", "median", "json gem ops/s (best)", "median",
               "× json gem"]
    rows = codec.flat_map do |size, figures|
      { dump: "dump_json vs JSON.generate", load: "load_json vs JSON.parse" }.map do |operation, name|
        native, json = figures.fetch(operation).values_at("native", "json")
        ["#{size}, #{figures[:bytes]} B", name, Report.rate(native.best), Report.rate(native.median),
         Report.rate(json.best), Report.rate(json.median), Report.ratio(native.best / json.best)]
      end
    end
    Report.table(headers, rows, labels: 2)
  end

  def targets(publish, fetch, threads, codec)
    eight = threads.fetch(THREADS.max)
    native_eight = native_threaded(eight)
    list = []
    { "publish" => publish, "fetch" => fetch }.each do |operation, results|
      { NATIVE_MAIN => "main thread", NATIVE_WORKER => "worker thread" }.each do |label, where|
        limit = limit_label(1, operation == "publish" ? "HSET" : "HGET")
        list << Report::Target.new("#{operation}, 1 thread (#{where}): native ≥ 0.85× #{limit}",
                                   ratio_of(results, label, limit), 0.85)
        list << Report::Target.new("#{operation}, 1 thread (#{where}): native ≥ 1.4× redis-rb ruby driver",
                                   ratio_of(results, label, RUBY), 1.4, ratio_of(results, limit, RUBY))
      end
    end
    limit = limit_label(THREADS.max, "HSET")
    list << Report::Target.new("publish, #{THREADS.max} threads: native ≥ 0.5× #{limit}",
                               native_eight.best / eight.fetch(limit).best, 0.5)
    list << Report::Target.new("publish, #{THREADS.max} threads: native ≥ 2× the best redis-rb variant",
                               native_eight.best / best_redis_rb(eight).best, 2.0,
                               eight.fetch(limit).best / best_redis_rb(eight).best)
    codec.each do |size, figures|
      { dump: "JSON.generate", load: "JSON.parse" }.each do |operation, rival|
        native, json = figures.fetch(operation).values_at("native", "json")
        list << Report::Target.new("#{operation}_json, #{size} (#{figures[:bytes]} B): native ≥ 1× #{rival}",
                                   native.best / json.best, 1.0)
      end
    end
    list
  end

  def ratio_of(results, label, other)
    results.fetch(label).best / results.fetch(other).best
  end

  # Rewrites the generated part of bench/RESULTS.md; what is written around it by hand stays.
  def write_results(markdown)
    block = "#{BEGIN_MARK}\n\n#{markdown}\n#{END_MARK}"
    text = File.exist?(RESULTS) ? File.read(RESULTS) : "# Benchmark results\n\n#{BEGIN_MARK}\n#{END_MARK}\n"
    pattern = /#{Regexp.escape(BEGIN_MARK)}.*?#{Regexp.escape(END_MARK)}/m
    text = pattern.match?(text) ? text.sub(pattern) { block } : "#{text}\n#{block}\n"
    File.write(RESULTS, text)
    $stderr.puts("bench: wrote #{RESULTS}")
  end
end
