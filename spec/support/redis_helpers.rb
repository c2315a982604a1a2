# frozen_string_literal: true

# One redis-server for the suite, a plain redis-rb client to look at what the gem wrote, and a
# helper to point SessionBridge at the server.
module RedisHelpers
  def self.server
    @server ||= RedisServer.start
  end

  def self.shutdown
    @server&.cleanup
  end

  def redis_server
    RedisHelpers.server
  end

  def raw_redis
    @raw_redis ||= Redis.new(url: redis_server.url, timeout: 5)
  end

  def configure_bridge(**settings)
    SessionBridge.configure do |config|
      config.redis_url = redis_server.url
      settings.each { |name, value| config.public_send(:"#{name}=", value) }
    end
  end

  # Everything in the database, to show an operation changed nothing.
  def redis_snapshot
    raw_redis.keys("*").sort.to_h do |key|
      [key, raw_redis.type(key) == "hash" ? raw_redis.hgetall(key) : raw_redis.dump(key)]
    end
  end

  # How many times Redis ran these commands (redis-rb strips the cmdstat_ prefix).
  def command_calls(*names)
    stats = raw_redis.info("commandstats")
    names.sum { |name| stats.dig(name, "calls").to_i }
  end

  # A loopback port with nothing listening.
  def closed_port
    server = TCPServer.new("127.0.0.1", 0)
    server.addr[1]
  ensure
    server&.close
  end

  # Runs the block; returns the error it raised (or nil) and the seconds it took.
  def timed
    started = Process.clock_gettime(Process::CLOCK_MONOTONIC)
    error = begin
      yield
      nil
    rescue StandardError => e
      e
    end
    [error, Process.clock_gettime(Process::CLOCK_MONOTONIC) - started]
  end
end
