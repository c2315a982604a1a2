# frozen_string_literal: true

require "fileutils"
require "redis"

module RedisTopology
  # One redis-server process of a topology, in its own directory, on a loopback port it keeps
  # across restarts. Sentinels are nodes too: their config file comes first on the command line.
  class Node
    LOG_LINES = 12
    # The kernel sends SIGKILL to the server when the thread that spawned it dies, so a harness
    # killed with SIGKILL leaves nothing behind (stop() is the normal way out).
    PARENT_DEATH_SIGNAL =
      if ENV.fetch("PATH", "").split(File::PATH_SEPARATOR).any? { |dir| File.executable?(File.join(dir, "setpriv")) }
        %w[setpriv --pdeathsig KILL --]
      else
        []
      end

    attr_reader :port, :bus_port, :dir, :pid

    # `command` builds the arguments from the node, so a port lost to another process between
    # picking it and binding it can be picked again.
    def initialize(dir:, command:)
      @dir = dir
      @command = command
      @log = File.join(dir, "redis.log")
      @stdio = File.join(dir, "stdio.log")
      FileUtils.mkdir_p(dir)
      pick_ports
    end

    def url
      "redis://127.0.0.1:#{port}"
    end

    def log_path
      @log
    end

    # Spawns the server; a port already taken on the first start is replaced by another.
    def spawn(retry_ports: false)
      attempts = retry_ports ? 3 : 1
      begin
        launch
        wait_until_listening
      rescue PortTaken
        attempts -= 1
        raise Error, "port #{port} is taken: #{tail}" if attempts.zero?

        FileUtils.rm_f([@log, @stdio])
        pick_ports
        retry
      end
      self
    end

    def running?
      return false unless @pid
      return true unless Process.waitpid(@pid, Process::WNOHANG)

      @pid = nil
      false
    rescue Errno::ECHILD
      @pid = nil
      false
    end

    # SIGKILL: the host is gone, nothing is flushed or handed over. Returns the monotonic time.
    def kill
      raise Error, "redis-server on port #{port} is not running" unless running?

      Process.kill("KILL", @pid)
      killed_at = RedisTopology.now
      Process.wait(@pid)
      @pid = nil
      killed_at
    end

    # SIGTERM, without waiting (reap waits); never raises for a process already gone.
    def terminate
      Process.kill("TERM", @pid)
    rescue Errno::ESRCH, TypeError
      nil
    end

    def reap(deadline)
      return unless @pid

      until Process.waitpid(@pid, Process::WNOHANG)
        if RedisTopology.now > deadline
          Process.kill("KILL", @pid)
          Process.wait(@pid)
          break
        end
        sleep 0.02
      end
    rescue Errno::ECHILD, Errno::ESRCH
      nil
    ensure
      @pid = nil
    end

    # One command on a fresh connection (closed afterwards, so it never counts as a leak).
    def call(*command)
      redis = Redis.new(host: "127.0.0.1", port: port, timeout: 1, reconnect_attempts: 0)
      redis.call(command)
    ensure
      redis&.close
    end

    def info(section)
      call("INFO", section).lines.each_with_object({}) do |line, fields|
        name, value = line.chomp.split(":", 2)
        fields[name] = value if value
      end
    end

    def tail(lines = LOG_LINES)
      [@log, @stdio].filter_map do |path|
        next unless File.exist?(path)

        text = File.readlines(path).last(lines).join
        next if text.empty?

        "  #{File.basename(path)} of :#{port}#{running? ? '' : ' (not running)'}\n#{text.gsub(/^/, '    ')}"
      end.join
    end

    private

    PortTaken = Class.new(StandardError)

    def pick_ports
      @port = RedisTopology.free_port
      @bus_port = RedisTopology.free_port
    end

    def launch
      binary = ENV.fetch("REDIS_SERVER", "redis-server")
      @pid = Process.spawn(*PARENT_DEATH_SIGNAL, binary, *@command.call(self),
                           chdir: dir, in: File::NULL, out: [@stdio, "a"], err: [@stdio, "a"])
    rescue Errno::ENOENT
      raise Error, "#{binary} not found: install it (apt-get install redis-server) or set REDIS_SERVER"
    end

    def wait_until_listening
      deadline = RedisTopology.now + 10
      until answers_as_itself?
        unless running?
          raise PortTaken if tail.include?("Address already in use")

          raise Error, "redis-server on port #{port} exited at start:\n#{tail}"
        end
        raise Error, "redis-server on port #{port} did not answer within 10s:\n#{tail}" if RedisTopology.now > deadline

        sleep 0.02
      end
    end

    # The pid check tells our server from someone else's that got the port first.
    def answers_as_itself?
      info("server")["process_id"].to_i == @pid
    rescue Redis::BaseConnectionError, SystemCallError
      false
    end
  end
end
