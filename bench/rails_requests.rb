# frozen_string_literal: true

# What session_bridge adds to a Devise app's requests: the Rails 6.1 + Devise 4.8 app in
# spec/dummy, booted once (a fresh sqlite database in a temp dir) and driven in-process by
# rack-test as the specs drive it, with the gem and without it, side by side in one run against a
# redis-server this script starts. "Without" removes, for the duration of a run, the gem's three
# Warden hooks from Warden's callback lists and its controller wrapper's methods (see GemSwitch):
# every other line of the app, Devise and Rails runs alike. Prints markdown tables.
#
#   ruby bench/rails_requests.rb           # full run: 2,000 sign-in/sign-out pairs per variant, about 2 minutes
#   ruby bench/rails_requests.rb --short   # or BENCH_SHORT=1: a few requests in a few seconds, proves it
#                                          # works (CI), never fails on speed

$LOAD_PATH.unshift(File.expand_path("../lib", __dir__))
require "fileutils"
require "tmpdir"
require "redis"
require_relative "../spec/support/redis_server"
require_relative "support/loops"
require_relative "support/redis_counters"
require_relative "support/runner"
require_relative "support/cpu_latency"
require_relative "support/machine"
require_relative "support/report"

module RailsBench
  SHORT = ARGV.include?("--short") || !ENV.fetch("BENCH_SHORT", "").empty?
  # Per run and variant: sign-in/sign-out pairs (each by a fresh browser) and signed-in page views.
  PAIRS = SHORT ? 10 : 100
  PAGES = SHORT ? 20 : 250
  REPETITIONS = SHORT ? 1 : 20 # runs per variant, taking turns; the best is shown
  COUNTED = SHORT ? 3 : 20 # requests of each kind behind the Redis columns (counted, not timed)
  NATIVE_RUNS = SHORT ? 1 : 7 # of SessionBridge.publish / revoke alone, the best is shown
  TARGET_MS = 0.3

  WITH = "with session_bridge"
  WITHOUT = "without session_bridge"
  STUBBED = "with session_bridge, SessionBridge.publish / revoke stubbed"
  KINDS = { sign_in: "sign-in: POST /users/sign_in (form, 302), fresh browser",
            sign_out: "sign-out: DELETE /users/sign_out (302)",
            page: "signed-in page: GET /dashboard (200), refresh_interval unset" }.freeze

  EMAIL = "ada@example.org"
  PASSWORD = "correct horse battery staple"
  SIGN_IN_FORM = { "user" => { "email" => EMAIL, "password" => PASSWORD, "remember_me" => "0" } }.freeze

  # "The same app without the gem": for the duration of a block, the Warden hooks the gem
  # installed (lib/session_bridge/hooks/*.rb) are taken out of Warden's callback lists, and
  # SessionBridge::Controller's methods are removed, so Devise's after_sign_in_path_for /
  # after_sign_out_path_for are reached directly. What stays has no per-request cost: the gem
  # loaded, and among the controllers' ancestors a module none of whose methods is called (per
  # request, the app then allocates what a copy of spec/dummy without the gem does). Nothing in
  # lib/ or spec/dummy knows about this; everything is put back as it was, in the same order.
  module GemSwitch
    HOOKS = File.expand_path("../lib/session_bridge/hooks", __dir__)
    CALLBACKS = %i[_after_set_user _before_logout].freeze
    CONTROLLER_METHODS = %i[after_sign_in_path_for after_sign_out_path_for bypass_sign_in].freeze

    module_function

    def without_gem
      hooks = remove_hooks
      methods = CONTROLLER_METHODS.to_h { |name| [name, SessionBridge::Controller.instance_method(name)] }
      methods.each_key { |name| SessionBridge::Controller.send(:remove_method, name) }
      yield
    ensure
      methods&.each { |name, method| SessionBridge::Controller.send(:define_method, name, method) }
      hooks&.each { |list, index, entry| list.insert(index, entry) }
    end

    # A diagnostic: the gem's Ruby side as it is, its native calls answered without Redis, to split
    # the gem's cost between Ruby (cookie, session note, notifications) and the Redis round trip.
    def with_stubbed_calls
      singleton = SessionBridge.singleton_class
      originals = %i[publish revoke].to_h { |name| [name, singleton.instance_method(name)] }
      tokens = 0
      singleton.send(:define_method, :publish) { |_data, session_id: nil, user_id: nil| format("%032x", tokens += 1) }
      singleton.send(:define_method, :revoke) { |_token| true }
      yield
    ensure
      originals&.each { |name, method| singleton.send(:define_method, name, method) }
    end

    # Another diagnostic: how long each SessionBridge.publish / revoke takes inside a request.
    # Returns { publish: [seconds, ...], revoke: [seconds, ...] }.
    def timing_calls
      singleton = SessionBridge.singleton_class
      originals = %i[publish revoke].to_h { |name| [name, singleton.instance_method(name)] }
      durations = originals.transform_values { [] }
      originals.each do |name, method|
        singleton.send(:define_method, name) do |*arguments, **options|
          started = Bench.now
          method.bind_call(self, *arguments, **options).tap { durations[name] << Bench.now - started }
        end
      end
      yield
      durations
    ensure
      originals&.each { |name, method| singleton.send(:define_method, name, method) }
    end

    # [list, index, entry] for each hook taken out, in the order to put them back.
    def remove_hooks
      removed = CALLBACKS.flat_map do |callbacks|
        list = Warden::Manager.public_send(callbacks)
        list.each_index.select { |i| File.dirname(list[i].first.source_location.first) == HOOKS }
            .map { |i| [list, i, list[i]] }
      end
      found = removed.map { |_, _, (hook, _)| File.basename(hook.source_location.first, ".rb") }.sort
      expected = SessionBridge::WARDEN_HOOKS.sort
      raise "expected the gem's Warden hooks #{expected}, found #{found}" unless found == expected

      removed.reverse_each { |list, index, _| list.delete_at(index) }
      removed
    end
  end

  # The app as a server calls it: the body iterated and closed (Rails runs its completion hooks on
  # close), the seconds spent inside and the Ruby objects allocated there added up. What rack-test
  # does around it (build the request, read the response into its cookie jar) is the browser's
  # work, outside.
  class TimedApp
    attr_reader :seconds, :objects

    def initialize(app)
      @app = app
      @seconds = 0.0
      @objects = 0
    end

    def call(env)
      objects = GC.stat(:total_allocated_objects)
      started = Bench.now
      status, headers, body = @app.call(env)
      chunks = []
      body.each { |chunk| chunks << chunk }
      body.close if body.respond_to?(:close)
      @seconds += Bench.now - started
      @objects += GC.stat(:total_allocated_objects) - objects
      [status, headers, chunks]
    end
  end

  # Per kind of request, counted (not timed): what Redis counted (INFO before and after each
  # request) and the Ruby objects the app allocated.
  class Tally
    def initialize(counters, app)
      @counters = counters
      @app = app
      @redis = Hash.new { |all, kind| all[kind] = Bench::RedisCounters::Counts.zero }
      @objects = Hash.new(0)
      @requests = Hash.new(0)
    end

    def count(kind)
      objects = @app.objects
      @redis[kind] += @counters.measure { yield }.last
      @objects[kind] += @app.objects - objects
      @requests[kind] += 1
    end

    # { kind => { redis: Result (its counts per request), objects: per request } }
    def results
      @requests.to_h do |kind, requests|
        [kind, { redis: Bench::Result.new([], requests, @redis[kind], 0), objects: @objects[kind].fdiv(requests) }]
      end
    end
  end

  module_function

  def main
    cpu_idle = Bench::CpuLatency.hold
    database = Dir.mktmpdir("session_bridge-bench-rails-")
    boot(database)
    server = RedisServer.start
    control = Redis.new(url: server.url, driver: :ruby)
    SessionBridge.configure { |config| config.redis_url = server.url } # the initializer leaves it to us
    User.create!(email: EMAIL, password: PASSWORD)
    puts run_all(server, control, cpu_idle)
  ensure
    server&.cleanup
    FileUtils.rm_rf(database) if database
    Bench::CpuLatency.release
  end

  # As spec/rails_helper.rb boots it, with the database in a directory of this run (the specs'
  # own file under spec/dummy/tmp is left alone) and the request log off (both variants alike).
  def boot(database)
    FileUtils.mkdir_p(File.expand_path("../spec/dummy/tmp", __dir__)) # the app's log file goes there
    ENV["RAILS_ENV"] = "test"
    ENV["DATABASE_URL"] = "sqlite3:#{File.join(database, 'bench.sqlite3')}"
    require_relative "../spec/dummy/config/environment"
    require "rack/test"
    require "active_support/testing/time_helpers"
    Rails.logger.level = :warn
    ActiveRecord::Schema.verbose = false
    load Rails.root.join("db", "schema.rb").to_s
    @app = TimedApp.new(Rails.application)
  end

  def variants
    { WITH => ->(&run) { run.call }, WITHOUT => GemSwitch.method(:without_gem),
      STUBBED => GemSwitch.method(:with_stubbed_calls) }
  end

  def run_all(server, control, cpu_idle)
    counts = Bench.step("Redis calls and allocations per request") { counted(control) }
    timings = Bench.step("#{PAIRS * REPETITIONS} sign-in/sign-out pairs and #{PAGES * REPETITIONS} pages per variant") do
      compare(control)
    end
    native = Bench.step("SessionBridge.publish / revoke alone and inside requests") do
      { alone: native_calls(control), in_requests: calls_in_requests(control) }
    end
    render(server, control, cpu_idle, counts, timings, native)
  end

  # Each variant warmed up with one run, then runs taking turns in a rotating order (A B C, B C A,
  # C A B, ...), every run on an empty Redis database and after a full GC. Returns
  # { variant => { kind => { app: Result, rack_test: Result } } }, a Result's rates being requests
  # per second, one per run.
  def compare(control)
    prepare = lambda do
      control.flushdb
      GC.start
    end
    variants.each_value do |around|
      prepare.call
      around.call { run(PAIRS, PAGES) }
    end
    runs = variants.transform_values { KINDS.keys.to_h { |kind| [kind, { app: [], rack_test: [] }] } }
    REPETITIONS.times do |repetition|
      variants.to_a.rotate(repetition).each do |label, around|
        prepare.call
        around.call { run(PAIRS, PAGES) }.each do |kind, seconds|
          seconds.each { |clock, per_request| runs[label][kind][clock] << per_request }
        end
      end
    end
    runs.transform_values do |kinds|
      kinds.transform_values do |clocks|
        clocks.transform_values { |seconds| Bench::Result.new(seconds.map { |s| 1 / s }, 0, nil, 0) }
      end
    end
  end

  # One run: `pairs` fresh browsers signing in and out, then one signed-in browser viewing a page
  # `pages` times, each request timed on its own. Returns { kind => { app:, rack_test: } }, seconds
  # per request in the app and through rack-test.
  def run(pairs, pages)
    totals = KINDS.keys.to_h { |kind| [kind, { app: 0.0, rack_test: 0.0 }] }
    pairs.times do
      browser = Rack::Test::Session.new(@app)
      timed(totals[:sign_in]) { browser.post("/users/sign_in", SIGN_IN_FORM) }
      expect_status(browser, 302)
      timed(totals[:sign_out]) { browser.delete("/users/sign_out") }
      expect_status(browser, 302)
    end
    browser = signed_in_browser
    pages.times { timed(totals[:page]) { browser.get("/dashboard") } }
    expect_status(browser, 200)
    browser.delete("/users/sign_out")
    { sign_in: pairs, sign_out: pairs, page: pages }.to_h do |kind, requests|
      [kind, totals[kind].transform_values { |seconds| seconds / requests }]
    end
  end

  def timed(totals)
    in_app = @app.seconds
    started = Bench.now
    yield
    totals[:rack_test] += Bench.now - started
    totals[:app] += @app.seconds - in_app
  end

  def signed_in_browser
    Rack::Test::Session.new(@app).tap do |browser|
      browser.post("/users/sign_in", SIGN_IN_FORM)
      expect_status(browser, 302)
    end
  end

  def expect_status(browser, status)
    request = browser.last_request
    actual = browser.last_response.status
    raise "#{request.request_method} #{request.path} answered #{actual}, not #{status}" unless actual == status
  end

  # What Redis counted and the app allocated for each kind of request, with two more cases: a
  # sign-in by a browser that still holds a token from an earlier session (its Rails session cookie
  # lost, the token cookie kept), and a page view once refresh_interval is due. Also checks each
  # variant did what it claims: a token cookie, or none. A first round is left out: the first
  # call of each script on a server also loads it (EVALSHA, NOSCRIPT, EVAL), and the first
  # request of a kind fills caches. Returns { variant => Tally#results }.
  def counted(control)
    counters = Bench::RedisCounters.new(control)
    variants.except(STUBBED).to_h do |label, around|
      control.flushdb
      tally = around.call do
        count_all(Tally.new(counters, @app), label, 1)
        count_all(Tally.new(counters, @app), label, COUNTED)
      end
      [label, tally.results]
    end
  end

  def count_all(tally, label, times)
    times.times { count_requests(tally, label) }
    count_refresh(tally, times)
    tally
  end

  def count_requests(tally, label)
    browser = Rack::Test::Session.new(@app)
    tally.count(:sign_in) { browser.post("/users/sign_in", SIGN_IN_FORM) }
    expect_status(browser, 302)
    expect_token(browser, label == WITH)
    tally.count(:page) { browser.get("/dashboard") }
    expect_status(browser, 200)
    tally.count(:sign_out) { browser.delete("/users/sign_out") }
    expect_token(browser, false)

    browser.post("/users/sign_in", SIGN_IN_FORM)
    browser.cookie_jar.delete(Rails.application.config.session_options.fetch(:key))
    tally.count(:sign_in_over_old_token) { browser.post("/users/sign_in", SIGN_IN_FORM) }
    expect_status(browser, 302)
    browser.delete("/users/sign_out")
  end

  # A page view of a browser signed in longer ago than refresh_interval (time moved on, not waited).
  def count_refresh(tally, times)
    previous = SessionBridge.configuration
    SessionBridge.configure { |config| config.refresh_interval = 60 }
    clock = Object.new.extend(ActiveSupport::Testing::TimeHelpers)
    times.times do
      browser = signed_in_browser
      tally.count(:page_refresh_due) { clock.travel(61) { browser.get("/dashboard") } }
      expect_status(browser, 200)
      browser.delete("/users/sign_out")
    end
  ensure
    SessionBridge.configure { |config| config.refresh_interval = previous.refresh_interval }
    GC.start # the replaced clients close their connections now, not within a later count
  end

  def expect_token(browser, expected)
    held = !browser.cookie_jar[SessionBridge.configuration.cookie_name].to_s.empty?
    raise "token cookie #{held ? 'set' : 'missing'} after #{browser.last_request.path}" unless held == expected
  end

  # How long the gem's two native calls take inside sign-in and sign-out requests (timed, a
  # wrapper around each: no figure of the other tables comes from these requests).
  def calls_in_requests(control)
    control.flushdb
    GemSwitch.timing_calls do
      PAIRS.times do
        browser = Rack::Test::Session.new(@app)
        browser.post("/users/sign_in", SIGN_IN_FORM)
        browser.delete("/users/sign_out")
        expect_status(browser, 302)
      end
    end
  end

  # The gem's two Redis calls alone, from this process's main thread like the requests: the best
  # rate (calls per second) of each over a few runs.
  def native_calls(control)
    data = { "user_id" => 1, "email" => EMAIL }
    calls = SHORT ? 50 : 5_000
    best = { publish: 0.0, revoke: 0.0 }
    NATIVE_RUNS.times do
      control.flushdb
      started = Bench.now
      tokens = Array.new(calls) { SessionBridge.publish(data, session_id: "bench", user_id: 1) }
      published = Bench.now
      tokens.each { |token| SessionBridge.revoke(token) }
      best[:publish] = [best[:publish], calls / (published - started)].max
      best[:revoke] = [best[:revoke], calls / (Bench.now - published)].max
    end
    best
  end
end

require_relative "support/rails_render"

RailsBench.main if $PROGRAM_NAME == __FILE__
