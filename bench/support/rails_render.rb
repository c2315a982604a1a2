# frozen_string_literal: true

module RailsBench
  module_function

  # The whole markdown of bench/rails_requests.rb: machine, method, the tables, the targets.
  def render(server, control, cpu_idle, counts, timings, native)
    sections = [
      SHORT ? "## Rails requests (short mode: a smoke test, the figures mean nothing)" : "## Rails requests",
      Bench::Report.table(%w[machine value], machine_rows(server, control, cpu_idle), labels: 2),
      method_note,
      "### Time per request: the same app with session_bridge and without it",
      requests_table(timings, counts),
      "### Redis calls and Ruby allocations per request (counted over #{COUNTED} requests each, not timed)",
      calls_table(counts),
      "### Where the difference goes: the gem's Ruby side, and its Redis call",
      breakdown_table(timings, native),
      "### Targets (issue 13, Rails row)",
      targets_table(targets(timings, counts))
    ]
    sections.join("\n\n") + "\n"
  end

  def machine_rows(server, control, cpu_idle)
    redis_version = control.info("server").fetch("redis_version")
    details = Bench::Machine.details(redis_version: redis_version, redis_benchmark_version: "-")
    versions = %w[devise warden].map { |gem| Gem.loaded_specs.fetch(gem).version }
    details.except("Ruby alternatives").merge(
      "Redis" => "redis-server #{redis_version}, loopback TCP",
      "Redis under test" => "#{server.url} (started by this run, no persistence)",
      "App" => "spec/dummy: Rails #{Rails.version}, Devise #{versions[0]}, Warden #{versions[1]}, cookie session " \
               "store, sqlite3 gem #{SQLite3::VERSION} (a fresh database in a temp dir), rack-test " \
               "#{Rack::Test::VERSION} in-process",
      "Password hashing" => "Devise stretches #{Devise.stretches} (bcrypt cost " \
                            "#{BCrypt::Password.new(User.first.encrypted_password).cost}), the same for every variant",
      "CPU idle states" => cpu_idle
    ).to_a
  end

  def method_note
    <<~TEXT.chomp
      Each time is the **best of #{REPETITIONS} run#{'s' if REPETITIONS > 1}** (the median run beside it); a run
      is #{PAIRS} sign-in/sign-out pairs, each by a fresh rack-test browser, then #{PAGES} page views of one
      signed-in browser, each request timed on its own. The variants take turns run by run in a rotating
      order (after one warm-up run each), every run on an empty Redis database and after a full GC, so a
      busy moment hits them alike. *ms in the app* is the time inside `Rails.application.call`, the
      response body iterated and closed as a server does; *through rack-test* adds what the test browser
      does around it (building the request, reading Set-Cookie into its jar), which grows with the extra
      cookie but is no work of the app.

      *Without session_bridge* is the same booted app with the gem's three Warden hooks taken out of
      Warden's callback lists and `SessionBridge::Controller`'s methods removed for the run: Devise's
      `after_sign_in_path_for` / `after_sign_out_path_for` are reached directly, no token cookie is set,
      nothing is sent to Redis (see the Redis table). Nothing in lib/ or spec/dummy changes.
      *SessionBridge.publish / revoke stubbed* keeps the gem's Ruby side (cookie, session note,
      notifications) and answers its two native calls in Ruby without Redis: it splits the difference
      between the gem's Ruby side and its native call; the same two calls are also timed inside
      #{PAIRS} sign-ins and sign-outs (a wrapper around each, in requests of their own) and alone in a loop.
      The request log is off (Rails.logger at warn) for every variant.
    TEXT
  end

  def requests_table(timings, counts)
    rows = KINDS.map do |kind, name|
      with, without = timings.values_at(WITH, WITHOUT).map { |kinds| kinds.fetch(kind) }
      [name, ms(with[:app].best), ms(with[:app].median), ms(without[:app].best), ms(without[:app].median),
       difference(with[:app], without[:app]), difference(with[:rack_test], without[:rack_test]),
       round_trips(counts[WITH][kind][:redis]), round_trips(counts[WITHOUT][kind][:redis])]
    end
    headers = ["request", "with session_bridge, ms in the app (best)", "median", "without, ms (best)", "median",
               "difference, ms", "difference through rack-test, ms", "Redis round trips / request, with", "without"]
    Bench::Report.table(headers, rows)
  end

  def calls_table(counts)
    cases = { sign_in: KINDS[:sign_in], sign_in_over_old_token: "sign-in by a browser still holding an earlier " \
                                                                 "token (Rails session lost, token cookie kept)",
              sign_out: KINDS[:sign_out], page: KINDS[:page],
              page_refresh_due: "signed-in page, refresh_interval 60 s, 61 s after sign-in" }
    rows = cases.map do |kind, name|
      with, without = counts.values_at(WITH, WITHOUT).map { |results| results.fetch(kind) }
      [name, round_trips(with[:redis]), Bench::Report.commands(with[:redis]), round_trips(without[:redis]),
       Bench::Report.commands(without[:redis]), with[:objects].round, without[:objects].round,
       format("%+d", with[:objects] - without[:objects])]
    end
    headers = ["request", "Redis round trips / request, with", "Redis commands / request, with",
               "round trips, without", "commands, without", "objects allocated in the app, with", "without",
               "difference"]
    Bench::Report.table(headers, rows)
  end

  def breakdown_table(timings, native)
    alone, inside = native.values_at(:alone, :in_requests)
    calls = { sign_in: :publish, sign_out: :revoke }
    rows = KINDS.map do |kind, name|
      with, stubbed, without = timings.values_at(WITH, STUBBED, WITHOUT).map { |kinds| kinds.fetch(kind).fetch(:app) }
      call = calls[kind]
      [name, ms(with.best), ms(stubbed.best), ms(without.best), difference(stubbed, without), difference(with, stubbed),
       call ? format("SessionBridge.#{call}: %.3f", median(inside.fetch(call)) * 1000) : "none",
       call ? ms(alone.fetch(call)) : "–"]
    end
    headers = ["request", "with, ms in the app (best)", "publish / revoke stubbed, ms (best)", "without, ms (best)",
               "Ruby side (stubbed − without)", "the native call (with − stubbed)",
               "the call timed inside #{PAIRS} requests, ms (median)",
               "the call alone, ms (best of #{NATIVE_RUNS} run#{'s' if NATIVE_RUNS > 1} in a loop)"]
    Bench::Report.table(headers, rows)
  end

  def median(values)
    sorted = values.sort
    sorted[sorted.size / 2]
  end

  Target = Struct.new(:goal, :measured, :met)

  def targets(timings, counts)
    added = %i[sign_in sign_out].map do |kind|
      with, without = timings.values_at(WITH, WITHOUT).map { |kinds| kinds.fetch(kind).fetch(:app) }
      added_ms = (1 / with.best - 1 / without.best) * 1000
      Target.new("#{KINDS[kind].split(':').first} adds ≤ #{TARGET_MS} ms", format("%+.3f ms", added_ms),
                 added_ms <= TARGET_MS)
    end
    trips = %i[sign_in sign_out].map do |kind|
      measured = counts[WITH][kind][:redis].round_trips_per_operation
      Target.new("#{KINDS[kind].split(':').first}: one Redis round trip", format("%.2f", measured), measured == 1)
    end
    page = counts[WITH][:page][:redis]
    calls = page.round_trips_per_operation + page.commands_per_operation.values.sum
    added + trips + [Target.new("signed-in page without refresh_interval: no Redis call",
                                "#{round_trips(page)} round trips, #{Bench::Report.commands(page)} commands",
                                calls.zero?)]
  end

  def targets_table(list)
    rows = list.map { |target| [target.goal, target.measured, target.met ? "**met**" : "**not met**"] }
    Bench::Report.table(["target", "measured", "this run"], rows)
  end

  # Milliseconds per request (or call) from a rate per second.
  def ms(rate)
    format("%.3f", 1000 / rate)
  end

  # Best against best, in ms per request.
  def difference(result, baseline)
    format("%+.3f", (1 / result.best - 1 / baseline.best) * 1000)
  end

  def round_trips(result)
    format("%.2f", result.round_trips_per_operation)
  end
end
