# frozen_string_literal: true

require "logger"

module SessionBridge
  # Settings, validated as a whole by SessionBridge.configure. Readers return the defaults below
  # until set.
  class Configuration
    DEFAULTS = {
      redis_url: "redis://127.0.0.1:6379/0",
      store_key: "mySessionStore",
      cookie_name: "_validation_token_key",
      connect_timeout: 1.0,
      read_timeout: 1.0,
      write_timeout: 1.0,
      pool_size: 5,
      max_payload_bytes: Native::DEFAULT_MAX_PAYLOAD_BYTES,
      ttl: 24 * 60 * 60, # seconds an entry lives; nil: until revoked
      hash_tokens: false, # store SHA-256(token) instead of the token (the Node reader must know)
      sweep_batch: 100, # expired entries each publish removes on the way
      ssl_ca_file: nil, # for rediss:// URLs: PEM file of trusted CAs (nil: the system's store)
      cookie_secure: nil, # nil: Secure in production (Rails.env.production?), not elsewhere
      cookie_same_site: :lax,
      cookie_domain: nil,
      cookie_path: "/",
      on_error: :report, # or :raise, or a callable taking (error, operation)
      refresh_interval: nil # seconds between sliding-expiry touches of a signed-in browser's entry; nil: off
    }.freeze

    DEFAULT_SESSION_DATA = ->(user) { { "user_id" => user.id } }

    # RFC 6265 cookie-name characters.
    COOKIE_NAME = /\A[!#$%&'*+\-.^_`|~0-9A-Za-z]+\z/.freeze
    SAME_SITE = %i[lax strict none].freeze

    # The logger of last resort, shared: the settings are frozen, so logger cannot memoize one.
    STDERR_LOGGER = Logger.new($stderr)

    attr_accessor(*DEFAULTS.keys)

    # Where :report writes; defaults to Rails.logger (read at each call) when Rails is loaded, else
    # standard error.
    attr_writer :logger

    def logger
      @logger || (defined?(::Rails) && ::Rails.respond_to?(:logger) && ::Rails.logger) || STDERR_LOGGER
    end

    def initialize
      DEFAULTS.each { |name, value| public_send(:"#{name}=", value) }
      @redis_url = ENV.fetch("REDIS_URL", DEFAULTS[:redis_url])
      @session_data = DEFAULT_SESSION_DATA
    end

    # With a block, sets what is published for a signed-in user; without, returns the callable.
    #   config.session_data { |user| { "user_id" => user.id, "username" => user.email } }
    def session_data(&block)
      return @session_data unless block

      @session_data = block
    end

    def session_data=(callable)
      @session_data = callable
    end

    # Checks every setting and returns a native client built from them.
    # Raises ConfigurationError naming the first bad setting.
    def build_client
      validate_cookie_settings
      check(@session_data.respond_to?(:call), "session_data must be a block or a callable")
      check(%i[report raise].include?(on_error) || on_error.respond_to?(:call),
            "on_error must be :report, :raise or a callable")
      check(redis_url.is_a?(String), "redis_url must be a String, got #{redis_url.class}")
      check(store_key.is_a?(String), "store_key must be a String, got #{store_key.class}")
      %i[connect_timeout read_timeout write_timeout].each do |name|
        value = public_send(name)
        check(value.is_a?(Numeric) && value.positive?, "#{name} must be a positive number of seconds")
      end
      check(pool_size.is_a?(Integer) && pool_size.positive?, "pool_size must be a positive Integer")
      check(max_payload_bytes.is_a?(Integer) && max_payload_bytes >= 2,
            "max_payload_bytes must be an Integer of at least 2")
      check(ttl.nil? || (ttl.is_a?(Numeric) && ttl.positive?), "ttl must be a positive number of seconds, or nil")
      check([true, false].include?(hash_tokens), "hash_tokens must be true or false")
      check(ssl_ca_file.nil? || ssl_ca_file.is_a?(String), "ssl_ca_file must be a path String or nil")
      check(refresh_interval.nil? || (refresh_interval.is_a?(Numeric) && refresh_interval.positive?),
            "refresh_interval must be a positive number of seconds, or nil")
      check(sweep_batch.is_a?(Integer) && sweep_batch.between?(0, 10_000), "sweep_batch must be an Integer from 0 to 10000")
      Native::Client.new(redis_url, store_key, native_options)
    end

    # Options for `cookies[name] = ...` in a controller.
    def cookie_options
      options = { httponly: true, same_site: cookie_same_site, secure: secure_cookie?, path: cookie_path }
      options[:domain] = cookie_domain if cookie_domain
      options
    end

    def secure_cookie?
      return cookie_secure unless cookie_secure.nil?

      defined?(::Rails) && ::Rails.respond_to?(:env) && ::Rails.env.production? ? true : false
    end

    def inspect
      "#<#{self.class.name} redis_url=#{redacted_redis_url.inspect} store_key=#{store_key.inspect} " \
        "cookie_name=#{cookie_name.inspect}>"
    end

    private

    def native_options
      { connect_timeout: connect_timeout.to_f, read_timeout: read_timeout.to_f, write_timeout: write_timeout.to_f,
        ttl: ttl&.to_f, hash_tokens: hash_tokens, sweep_batch: sweep_batch, pool_size: pool_size,
        max_payload_bytes: max_payload_bytes, ssl_ca_file: ssl_ca_file }
    end

    def validate_cookie_settings
      check(cookie_name.is_a?(String) && COOKIE_NAME.match?(cookie_name),
            "cookie_name must be a non-empty String of cookie-name characters")
      check(SAME_SITE.include?(cookie_same_site), "cookie_same_site must be one of #{SAME_SITE.inspect}")
      check([true, false, nil].include?(cookie_secure), "cookie_secure must be true, false or nil (automatic)")
      check(cookie_same_site != :none || secure_cookie?, "cookie_same_site :none needs cookie_secure true")
      check(cookie_path.is_a?(String) && cookie_path.start_with?("/"), "cookie_path must start with /")
    end

    def check(condition, message)
      raise ConfigurationError, message unless condition
    end

    def redacted_redis_url
      redis_url.to_s.sub(%r{//[^@/]*@}, "//[redacted]@")
    end
  end
end
