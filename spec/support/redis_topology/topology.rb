# frozen_string_literal: true

module RedisTopology
  # What a cluster and a sentinel setup share: a directory, processes started and stopped together,
  # nodes killed and restarted on purpose, and bounded waits that fail with the logs' tail.
  class Topology
    STOP_SECONDS = 5

    attr_reader :dir, :startup_seconds

    def self.start(**options)
      new(**options).start
    end

    def initialize
      @down = Set.new
    end

    # Starts every process and waits until the topology is ready; stops what it started on failure.
    def start
      raise Error, "already started" if @dir

      started = RedisTopology.now
      stop_at_exit
      @dir = Dir.mktmpdir("session_bridge-#{self.class.name.split('::').last.downcase}-")
      boot
      @startup_seconds = RedisTopology.now - started
      self
    rescue Exception # an interrupt half way must not leak processes either
      stop
      raise
    end

    def stop
      nodes.each(&:terminate)
      deadline = RedisTopology.now + STOP_SECONDS
      nodes.each { |node| node.reap(deadline) }
      FileUtils.rm_rf(@dir) if @dir
      @dir = nil
    end

    def ports
      nodes.map(&:port)
    end

    # Connections from clients, not counting replication links, sentinels or the connection that
    # asks: what a client under test left open.
    def client_count(port)
      node(port).call("CLIENT", "LIST").lines.count do |line|
        fields = line.split.to_h { |field| field.split("=", 2) }
        !fields.fetch("flags").match?(/[MS]/) && !fields["name"].to_s.start_with?("sentinel-") &&
          fields["cmd"] != "client|list"
      end
    end

    def client_counts
      nodes.select(&:running?).to_h { |node| [node.port, client_count(node.port)] }
    end

    # The last lines of every node's log, for a failure message.
    def logs
      nodes.map(&:tail).join
    end

    private

    def nodes
      raise NotImplementedError
    end

    # For a spec that forgets stop(); a forked child must not stop its parent's servers.
    def stop_at_exit
      return if @stop_at_exit

      owner = Process.pid
      at_exit { stop if Process.pid == owner }
      @stop_at_exit = true
    end

    def node(port)
      nodes.find { |node| node.port == Integer(port) } or raise Error, "no node on port #{port}: #{ports.join(', ')}"
    end

    # The options every data node runs with: no persistence, a replica syncs at once.
    def server_args(node)
      ["--port", node.port.to_s, "--bind", "127.0.0.1", "--dir", node.dir, "--logfile", node.log_path,
       "--save", "", "--appendonly", "no", "--repl-diskless-sync-delay", "0", "--enable-debug-command", "local"]
    end

    def kill_node(port)
      killed_at = node(port).kill
      @down << node(port).port
      killed_at
    end

    def restart_node(port)
      raise Error, "the node on port #{port} is running" if node(port).running?

      node(port).spawn
      @down.delete(node(port).port)
    end

    # Yields until it returns a truthy value (then returns it), raising after `timeout` seconds or
    # as soon as a node that should be running has exited.
    def wait_until(what, timeout:)
      deadline = RedisTopology.now + timeout
      last_error = nil
      loop do
        nodes.each do |node|
          next if @down.include?(node.port) || node.running?

          raise Error, "redis-server on port #{node.port} exited while waiting for #{what}:\n#{node.tail(40)}"
        end
        begin
          result = yield
          return result if result
        rescue Redis::BaseError, SystemCallError => e
          last_error = e
        end
        if RedisTopology.now > deadline
          raise Error, "timed out after #{timeout}s waiting for #{what}" \
                       "#{last_error && " (last error: #{last_error.class}: #{last_error.message})"}\n#{logs}"
        end

        sleep 0.05
      end
    end

    # Runs a helper (redis-cli) to completion, killing it on timeout or on any interruption.
    def run(*command, what:, timeout:, output:)
      pid = Process.spawn(*Node::PARENT_DEATH_SIGNAL, *command, in: File::NULL, out: output, err: [:child, :out])
      deadline = RedisTopology.now + timeout
      until (status = Process.waitpid2(pid, Process::WNOHANG)&.last)
        if RedisTopology.now > deadline
          raise Error, "#{what} did not finish within #{timeout}s:\n#{last_lines(output)}#{logs}"
        end

        sleep 0.05
      end
      raise Error, "#{what} failed (#{status}):\n#{last_lines(output)}#{logs}" unless status.success?
    ensure
      if pid && !status
        Process.kill("KILL", pid)
        Process.wait(pid)
      end
    end

    def last_lines(path, count = 30)
      File.exist?(path) ? File.readlines(path).last(count).join : ""
    end
  end
end
