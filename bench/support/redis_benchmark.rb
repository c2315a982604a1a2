# frozen_string_literal: true

require "open3"

module Bench
  # Redis' own client, redis-benchmark (C, event loop, no application code): the physical limit
  # for `clients` connections, each sending one command and waiting for its reply (-P 1).
  # The run length is given as a request count, chosen from the previous run's rate so a run
  # lasts about `duration` seconds. The rate is redis-benchmark's own figure.
  class RedisBenchmark
    BINARY = ENV.fetch("REDIS_BENCHMARK", "redis-benchmark")

    def self.version
      `#{BINARY} --version`.split[1]
    end

    def initialize(port:, clients:, command:, expected_rate: 20_000)
      @port = port
      @clients = clients
      @command = command
      @rate = expected_rate
    end

    def measure(duration)
      requests = [(@rate * duration).round, 50 * @clients].max
      @rate = run(requests)
      [requests, requests / @rate]
    end

    private

    def run(requests)
      # -r: __rand_int__ in the command becomes a random 12-digit number per request.
      argv = [BINARY, "-h", "127.0.0.1", "-p", @port.to_s, "-c", @clients.to_s, "-n", requests.to_s,
              "-P", "1", "-r", "100000000", "--csv", *@command]
      output, status = Open3.capture2e(*argv)
      raise "redis-benchmark failed (#{status}): #{output}" unless status.success?

      # The last line ends with "rps","avg","min","p50","p95","p99","max"; the test name before them
      # is the command unescaped (our JSON has quotes), so the line is not valid CSV.
      figures = output.lines.last.to_s.scan(/"([\d.]+)"/).flatten.last(7)
      raise "redis-benchmark printed no rate: #{output}" unless figures.size == 7

      Float(figures.first)
    end
  end
end
