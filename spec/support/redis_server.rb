# frozen_string_literal: true

require "fileutils"
require "socket"
require "tmpdir"
require "timeout"
require_relative "tls_certificates"

# Starts a throwaway redis-server on a free loopback port, waits until it answers, and stops it.
# Used by the specs and by the demo; it never touches a server it did not start.
class RedisServer
  attr_reader :port, :pid

  def self.start(**options)
    new(**options).tap(&:start)
  end

  # tls: true serves TLS only, with a certificate for 127.0.0.1 signed by a throwaway CA
  # (tls_files[:ca] is its PEM file).
  def initialize(port: nil, extra_args: [], tls: false)
    @port = port || free_port
    @extra_args = extra_args
    @dir = Dir.mktmpdir("session_bridge-redis-")
    @tls = tls && TlsCertificates.write(@dir)
  end

  def tls_files
    @tls
  end

  def url(db: 0, userinfo: nil)
    "#{@tls ? 'rediss' : 'redis'}://#{userinfo ? "#{userinfo}@" : ''}127.0.0.1:#{port}/#{db}"
  end

  def start
    binary = ENV.fetch("REDIS_SERVER", "redis-server")
    @log = File.join(@dir, "redis.log")
    @pid = Process.spawn(binary, *listen_args, "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
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

  def listen_args
    return ["--port", port.to_s] unless @tls

    ["--port", "0", "--tls-port", port.to_s, "--tls-cert-file", @tls[:cert], "--tls-key-file", @tls[:key],
     "--tls-ca-cert-file", @tls[:ca], "--tls-auth-clients", "no"]
  end

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

  # Any answer means the server is up (an ACL-protected one answers NOAUTH).
  def ping
    TCPSocket.open("127.0.0.1", port) do |tcp|
      socket = @tls ? OpenSSL::SSL::SSLSocket.new(tcp).tap { |s| s.sync_close = true }.tap(&:connect) : tcp
      socket.write("PING\r\n")
      socket.gets&.match?(/\A[+-]/)
    end
  rescue SystemCallError, OpenSSL::SSL::SSLError
    false
  end
end
