# frozen_string_literal: true

# A loopback TCP server that misbehaves on purpose: each accepted connection is handed to the
# block on its own thread (a server that never answers, one that trickles bytes, a proxy that
# drops replies). `close` stops it and closes every connection it accepted.
class FakeServer
  def initialize(&handler)
    @server = TCPServer.new("127.0.0.1", 0)
    @clients = Queue.new
    @threads = Queue.new
    @acceptor = Thread.new do
      loop do
        client = @server.accept
        @clients << client
        @threads << Thread.new { serve(handler, client) }
      end
    rescue IOError, SystemCallError
      nil
    end
  end

  def port
    @server.addr[1]
  end

  def serve(handler, client)
    handler&.call(client)
  rescue IOError, SystemCallError
    nil
  end

  def url
    "redis://127.0.0.1:#{port}/0"
  end

  def close
    @acceptor.kill.join
    @server.close
    @threads.size.times { @threads.pop.kill.join }
    @clients.size.times { @clients.pop.close unless @clients.empty? }
  end

  # Forwards each request to `upstream` (host, port) and its reply back, in lockstep; while
  # `drop_replies` is true it closes the client's connection instead of answering it.
  def self.proxy(upstream_port)
    proxy = new do |client|
      upstream = TCPSocket.new("127.0.0.1", upstream_port)
      loop do
        upstream.write(client.readpartial(65_536))
        reply = upstream.readpartial(65_536)
        if proxy.drop_replies
          client.close
          break
        end
        client.write(reply)
      end
    rescue EOFError
      nil
    ensure
      upstream&.close
    end
    proxy
  end

  attr_accessor :drop_replies
end
