# frozen_string_literal: true

require "open3"
require "rbconfig"

# Runs Ruby code in a child process with the gem loaded, so a test of what could abort or leak
# in a process fails on its own instead of taking the suite down with it.
module ChildRuby
  LIB = File.expand_path("../../lib", __dir__)

  # Runs `script`; returns its combined output and exit status (killed after `timeout` seconds).
  def run_ruby(script, timeout: 60)
    Open3.popen2e(RbConfig.ruby, "-I", LIB, "-rsession_bridge", "-rjson", "-rtimeout", "-e", script) do |stdin, out, waiter|
      stdin.close
      output = +""
      reader = Thread.new { output << out.read }
      unless waiter.join(timeout)
        Process.kill("KILL", waiter.pid)
        waiter.join
      end
      reader.join
      [output, waiter.value]
    end
  end

  # Starts `script` with pipes to its stdin and stdout and yields them with its pid; kills it
  # afterwards if it is still running.
  def with_ruby(script)
    Open3.popen2(RbConfig.ruby, "-I", LIB, "-rsession_bridge", "-rjson", "-rtimeout", "-e", script) do |stdin, out, waiter|
      yield stdin, out, waiter
    ensure
      Process.kill("KILL", waiter.pid) if waiter.alive?
    end
  end

  def open_fds
    Dir.children("/proc/self/fd").size
  end
end
