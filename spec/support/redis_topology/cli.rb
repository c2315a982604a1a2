# frozen_string_literal: true

module RedisTopology
  # `ruby spec/support/redis_topology.rb cluster|sentinel`: the Node tests' way to the same
  # topologies. One JSON line describes the topology (or {"error": ...} if it did not start), then
  # one JSON line answers each command line; EOF, SIGTERM, SIGINT or SIGHUP stops everything.
  module Cli
    KINDS = { "cluster" => Cluster, "sentinel" => Sentinel }.freeze
    COMMANDS = %w[kill_master wait_for_failover restart describe].freeze

    def self.run(argv, input: $stdin, output: $stdout)
      kind = KINDS.fetch(argv.first) { abort "usage: #{$PROGRAM_NAME} #{KINDS.keys.join('|')}" }
      output.sync = true
      stopping = false
      %w[TERM INT HUP].each { |signal| trap(signal) { raise SignalException, signal unless stopping } }
      topology = kind.new
      begin
        topology.start
      rescue Error => e
        output.puts(JSON.generate(error: e.message))
        exit 1
      end
      output.puts(JSON.generate(topology.describe))
      input.each_line { |line| output.puts(JSON.generate(answer(topology, line))) }
    rescue SignalException
      nil
    ensure
      stopping = true
      topology&.stop
    end

    def self.answer(topology, line)
      command, port = line.split
      unless COMMANDS.include?(command)
        return { error: "unknown command #{line.strip.inspect}: #{COMMANDS.join(', ')}" }
      end

      case command
      when "kill_master"
        port ||= topology.master_port if topology.respond_to?(:master_port)
        return { error: "kill_master needs the master's port" } unless port

        topology.kill_master(port)
        { killed: Integer(port) }
      when "wait_for_failover"
        { elapsed: topology.wait_for_failover(*port).round(3), description: topology.describe }
      when "restart"
        { restarted: Integer(port), role: topology.restart(port), description: topology.describe }
      else
        topology.describe
      end
    rescue Error, Redis::BaseError, ArgumentError, TypeError => e
      { error: "#{e.class}: #{e.message}" }
    end
  end
end
