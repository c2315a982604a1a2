# frozen_string_literal: true

require "fileutils"
require "json"
require "set"
require "socket"
require "tmpdir"

# Real Redis topologies on loopback for the specs, and through the CLI below for the Node tests:
# RedisTopology::Cluster (3 masters, 3 replicas) and RedisTopology::Sentinel (a master, a replica,
# 3 sentinels). Every wait is bounded; stop() leaves no process and no directory behind.
#
#   ruby spec/support/redis_topology.rb cluster|sentinel
#
# prints one JSON line describing the topology, then answers one JSON line per command read from
# stdin (`kill_master <port>`, `wait_for_failover <port>`, `restart <port>`, `describe`), and stops
# everything on EOF, SIGTERM or SIGINT.
module RedisTopology
  # A topology that could not start, or a wait that ran out of time; the message has the logs' tail.
  Error = Class.new(StandardError)

  @handed_out = Set.new

  def self.now
    Process.clock_gettime(Process::CLOCK_MONOTONIC)
  end

  # A loopback port nothing listens on, never the same twice in this process.
  def self.free_port
    loop do
      server = TCPServer.new("127.0.0.1", 0)
      port = server.addr[1]
      server.close
      return port if @handed_out.add?(port)
    end
  end
end

require_relative "redis_topology/node"
require_relative "redis_topology/topology"
require_relative "redis_topology/cluster"
require_relative "redis_topology/sentinel"
require_relative "redis_topology/cli"

RedisTopology::Cli.run(ARGV) if $PROGRAM_NAME == __FILE__
