# frozen_string_literal: true

module Bench
  # What Redis itself counted while a variant ran, read from INFO through a separate connection, so
  # the "one round trip per operation" claim is measured rather than asserted:
  #
  # - commands: `INFO commandstats` calls per command. Commands a Lua script runs count too, so
  #   an EVALSHA doing HSET + ZADD shows as evalsha 1, hset 1, zadd 1.
  # - round trips: `INFO stats` total_reads_processed, the socket reads Redis made; a request
  #   that waits for its reply before the next is sent is exactly one read.
  # - connections: total_connections_received, to show connections are reused.
  # - cpu: `INFO cpu` used_cpu_user + used_cpu_sys, the seconds of CPU Redis spent (commands and
  #   socket I/O), to tell the server's share of an operation from the client's.
  #
  # The INFO calls' own traffic is measured once (two snapshots with nothing in between) and
  # subtracted.
  class RedisCounters
    Counts = Struct.new(:commands, :reads, :connections, :cpu, keyword_init: true) do
      def -(other) = combine(other, :-)
      def +(other) = combine(other, :+)

      def self.zero
        new(commands: {}, reads: 0, connections: 0, cpu: 0.0)
      end

      private

      def combine(other, operator)
        names = commands.keys | other.commands.keys
        combined = names.to_h do |name|
          [name, commands.fetch(name, 0).public_send(operator, other.commands.fetch(name, 0))]
        end
        Counts.new(commands: combined,
                   reads: reads.public_send(operator, other.reads),
                   connections: connections.public_send(operator, other.connections),
                   cpu: cpu.public_send(operator, other.cpu))
      end
    end

    # Commands that are not the operation measured: INFO is ours, CONFIG is redis-benchmark's
    # start-up (CONFIG GET save / appendonly).
    IGNORED = /\A(info|config)\b/.freeze

    def initialize(redis)
      @redis = redis
      @overhead = Counts.zero
      @overhead = measure {}.last
    end

    # Runs the block and returns [its result, the Counts it caused].
    def measure
      before = snapshot
      result = yield
      [result, snapshot - before - @overhead]
    end

    private

    def snapshot
      stats = @redis.info("stats")
      commands = @redis.info("commandstats").each_with_object({}) do |(name, fields), all|
        all[name] = Integer(fields["calls"]) unless IGNORED.match?(name)
      end
      cpu = @redis.info("cpu").values_at("used_cpu_user", "used_cpu_sys").sum { |seconds| Float(seconds) }
      Counts.new(commands: commands, reads: Integer(stats["total_reads_processed"]),
                 connections: Integer(stats["total_connections_received"]), cpu: cpu)
    end
  end
end
