# frozen_string_literal: true

$LOAD_PATH.unshift(File.expand_path("../lib", __dir__))
require "digest"
require "json"
require "socket"
require "timeout"
require "tmpdir"
require "redis"
require "session_bridge"
require_relative "support/redis_server"
require_relative "support/redis_helpers"
require_relative "support/fake_server"
require_relative "support/child_ruby"

RSpec.configure do |config|
  config.disable_monkey_patching!
  config.expect_with(:rspec) { |c| c.syntax = :expect }
  config.order = :random
  Kernel.srand(config.seed)

  config.include RedisHelpers
  config.include ChildRuby
  config.before(:suite) { RedisHelpers.server }
  config.after(:suite) { RedisHelpers.shutdown }
  config.before do
    RedisHelpers.server.start unless RedisHelpers.server.running?
    raw_redis.flushall
    configure_bridge
  end
  config.after { SessionBridge.reset_configuration! }
end
