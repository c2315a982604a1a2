# frozen_string_literal: true

require "session_bridge/version"
require "session_bridge/errors"
# The native extension: a platform gem ships one per Ruby version (bin/build-gems); the source gem
# and a checkout build lib/session_bridge/session_bridge.so.
begin
  require "session_bridge/#{RUBY_VERSION[/\A\d+\.\d+/]}/session_bridge"
rescue LoadError
  require "session_bridge/session_bridge"
end
require "session_bridge/configuration"
require "session_bridge/controller"

# Shares a signed-in user's session with non-Ruby servers (a Node.js Socket.IO server, say)
# through Redis: a token in a cookie, a JSON copy of chosen session data under that token.
#
#   SessionBridge.configure do |config|
#     config.redis_url = ENV.fetch("REDIS_URL", "redis://127.0.0.1:6379/0")
#     config.session_data { |user| { "user_id" => user.id, "username" => user.email } }
#   end
#
#   class ApplicationController < ActionController::Base
#     include SessionBridge
#   end
module SessionBridge
  autoload :Browser, "session_bridge/browser"

  # lib/session_bridge/hooks/*.rb, one Warden hook each.
  WARDEN_HOOKS = %w[publish_on_sign_in revoke_on_sign_out refresh_on_request].freeze

  # Expired entries removed per script by SessionBridge.sweep (about 0.2 ms of Redis time).
  SWEEP_BATCH = 100

  @lock = Mutex.new

  class << self
    # `include SessionBridge` in a controller publishes on sign-in and revokes on sign-out.
    def included(controller)
      super
      controller.prepend(Controller)
      controller.extend(Controller::Inheritance)
    end

    # The settings in force. Change them with configure.
    def configuration
      @configuration || @lock.synchronize { @configuration ||= Configuration.new.freeze }
    end

    # Yields a copy of the settings; applies it only when every setting is valid. On
    # ConfigurationError the previous settings stay in force.
    def configure
      candidate = configuration.dup
      yield candidate
      client = candidate.build_client
      candidate.freeze
      @lock.synchronize do
        @configuration = candidate
        @client = client
      end
      candidate
    end

    # Stores a JSON copy of `data` (a Hash) under a new token and returns the token. With
    # `user_id`, the entry is indexed so revoke_user can remove it. Raises SerializationError
    # (nothing written), ArgumentError for a bad user_id, or a ConnectionError / CommandError.
    def publish(data, session_id: nil, user_id: nil)
      client.publish(data, session_id.to_s, user_key(user_id))
    end

    # The Hash stored under `token` (String keys), or nil when absent or expired. A value that
    # cannot be a token returns nil without asking Redis.
    def fetch(token)
      client.fetch(token)
    end

    # Restarts the entry's lifetime (sliding expiry); true when it was live.
    def touch(token)
      client.touch(token)
    end

    # Deletes the entry; true if there was one. A value that cannot be a token returns false.
    def revoke(token)
      client.revoke(token)
    end

    # Deletes every entry published with this user_id, in one atomic step; returns how many.
    def revoke_user(user_id)
      key = user_key(user_id)
      raise ArgumentError, "user_id must be an Integer or a String, got nil" unless key

      client.revoke_user(key)
    end

    # Removes every expired entry (publish also removes a few each time); returns how many.
    # For a scheduled job. Works in batches of SWEEP_BATCH, one short script each, so other
    # clients are never kept waiting for more than a fraction of a millisecond.
    def sweep
      client.sweep(SWEEP_BATCH)
    end

    # The Redis channel on which revoked and expired entries are announced (for the Node side).
    def revocation_channel
      client.revocation_channel
    end

    # What the controller and Warden hooks do with an error, per config.on_error: :report logs it
    # and, with ActiveSupport loaded, sends an error.session_bridge notification (class and message
    # only: never the token or the payload); :raise re-raises it; a callable receives
    # (error, operation).
    def handle_error(error, operation)
      handler = configuration.on_error
      case handler
      when :raise then raise error
      when :report then report_error(error, operation)
      else handler.call(error, operation)
      end
    end

    # Installs the Warden hooks when Warden is loaded (Devise loads it). Called when this file is
    # required and again by the Railtie once every gem is, so the Gemfile's order does not matter.
    def install_warden_hooks
      return false unless defined?(::Warden::Manager)

      WARDEN_HOOKS.each { |hook| require "session_bridge/hooks/#{hook}" }
      true
    end

    # The class of any value, BasicObject included, for error messages.
    def class_name(value)
      ::Kernel.instance_method(:class).bind_call(value).name
    end

    # Back to the defaults (for tests).
    def reset_configuration!
      @lock.synchronize do
        @configuration = nil
        @client = nil
      end
    end

    private

    def report_error(error, operation)
      configuration.logger&.error("[session_bridge] #{operation} failed: #{error.class}: #{error.message}")
      return unless defined?(::ActiveSupport::Notifications)

      ::ActiveSupport::Notifications.instrument("error.session_bridge", operation: operation,
                                                                        error_class: error.class.name,
                                                                        message: error.message)
    end

    # The configuration is read before taking the lock: `configuration` takes it too.
    def client
      @client || begin
        config = configuration
        @lock.synchronize { @client ||= config.build_client }
      end
    end

    def user_key(user_id)
      case user_id
      when nil then nil
      when Integer, String then user_id.to_s
      else raise ArgumentError, "user_id must be an Integer or a String, got #{class_name(user_id)}"
      end
    end
  end
end

SessionBridge.install_warden_hooks
require "session_bridge/railtie" if defined?(::Rails::Railtie)
