# frozen_string_literal: true

require "fileutils"
require "socket"
require "tmpdir"
require "timeout"

# Starts a throwaway redis-server on a free loopback port, waits until it answers, and stops it.
# Used by the specs and by the demo; it never touches a server it did not start.
class RedisServer
  attr_reader :port, :pid

  def self.start(**options)
    new(**options).tap(&:start)
  end

  def initialize(port: nil, extra_args: [])
    @port = port || free_port
    @extra_args = extra_args
    @dir = Dir.mktmpdir("session_bridge-redis-")
  end

  def url(db: 0)
    "redis://127.0.0.1:#{port}/#{db}"
  end

  def start
    binary = ENV.fetch("REDIS_SERVER", "redis-server")
    @log = File.join(@dir, "redis.log")
    @pid = Process.spawn(binary, "--port", port.to_s, "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
                         "--dir", @dir, "--logfile", @log, *@extra_args,
                         out: File::NULL, err: File::NULL)
    wait_until_ready
    self
  rescue Errno::ENOENT
    raise "redis-server not found: install it (apt-get install redis-server) or set REDIS_SERVER"
  end

  def stop
    return unless @pid

    resume
    Process.kill("TERM", @pid)
    Timeout.timeout(5) { Process.wait(@pid) }
  rescue Errno::ESRCH, Errno::ECHILD
    nil
  rescue Timeout::Error
    Process.kill("KILL", @pid)
    Process.wait(@pid)
  ensure
    @pid = nil
  end

  def restart
    stop
    start
  end

  # SIGSTOP: the server keeps its socket open but answers nothing, like a stalled host.
  def pause
    Process.kill("STOP", @pid)
  end

  def resume
    Process.kill("CONT", @pid) if @pid
  end

  def running?
    !@pid.nil?
  end

  def cleanup
    stop
    FileUtils.rm_rf(@dir)
  end

  private

  def free_port
    server = TCPServer.new("127.0.0.1", 0)
    server.addr[1]
  ensure
    server&.close
  end

  def wait_until_ready
    deadline = Process.clock_gettime(Process::CLOCK_MONOTONIC) + 10
    loop do
      return if ping
      if Process.clock_gettime(Process::CLOCK_MONOTONIC) > deadline || Process.waitpid(@pid, Process::WNOHANG)
        raise "redis-server did not start on port #{port}: #{File.exist?(@log) ? File.read(@log)[-2000..] : 'no log'}"
      end

      sleep 0.02
    end
  end

  def ping
    TCPSocket.open("127.0.0.1", port) do |socket|
      socket.write("PING\r\n")
      socket.gets&.start_with?("+PONG")
    end
  rescue SystemCallError
    false
  end
end
