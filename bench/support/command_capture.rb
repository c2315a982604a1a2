# frozen_string_literal: true

require "socket"

module Bench
  # The exact commands a block sends to Redis, read with MONITOR (once, before anything is
  # timed), so redis-benchmark can replay what the native path sends: the limit for the same
  # server-side work, whatever the core sends today (an HSET, an EVALSHA, ...).
  module CommandCapture
    MARKER = "bench-capture-end"

    module_function

    # Returns the top-level commands (arrays of argument strings) the block caused; commands that
    # Lua scripts ran are left out.
    def commands(port, control)
      monitor = TCPSocket.new("127.0.0.1", port)
      monitor.write("MONITOR\r\n")
      raise "MONITOR refused: #{monitor.gets.inspect}" unless monitor.gets&.start_with?("+OK")

      yield
      control.echo(MARKER)
      captured = []
      while (line = monitor.gets)
        arguments = parse(line)
        break if arguments == ["echo", MARKER]

        captured << arguments unless line.include?(" lua] ")
      end
      captured
    ensure
      monitor&.close
    end

    # A MONITOR line: +<time> [<db> <client>] "arg" "arg" ..., each argument escaped as Redis'
    # sdscatrepr does (\" \\ \n \r \t \a \b \xHH).
    def parse(line)
      line.b.scan(/"((?:[^"\\]|\\.)*)"/n).map do |(quoted)|
        quoted.gsub(/\\x(\h\h)|\\(.)/n) { unescape(Regexp.last_match) }
      end
    end

    def unescape(match)
      return match[1].hex.chr if match[1]

      { "n" => "\n", "r" => "\r", "t" => "\t", "a" => "\a", "b" => "\b" }.fetch(match[2], match[2])
    end
  end
end
