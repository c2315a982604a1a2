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
      sweep_batch: 1, # expired entries each publish removes on the way (as many as it adds)
      ssl_ca_file: nil, # for rediss:// URLs: PEM file of trusted CAs (nil: the system's store)
      cookie_secure: nil, # nil: Secure in production (Rails.env.production?), not elsewhere
      cookie_same_site: :lax,
      cookie_domain: nil,
      cookie_path: "/",
      on_error: :report, # or :raise, or a callable taking (error, operation)
      refresh_interval: nil # seconds between sliding-expiry touches of a signed-in browser's entry; nil: off
    }.freeze

    DEFAULT_SESSION_DATA = ->(user) { { "user_id" => user.id } }

    MAX_TIMEOUT = 3600 # seconds; a longer connect, read or write timeout is a mistake
    MAX_TTL = 10 * 366 * 24 * 60 * 60 # ten years, in seconds
    MAX_POOL_SIZE = 1024
    MAX_PAYLOAD_LIMIT = 512 * 1024 * 1024 # Redis' own limit for one value

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
      check(callable?(@session_data), "session_data must be a block or a callable")
      check(%i[report raise].include?(on_error) || callable?(on_error), "on_error must be :report, :raise or a callable")
      check(String === redis_url, "redis_url must be a String, got #{SessionBridge.class_name(redis_url)}")
      check(String === store_key, "store_key must be a String, got #{SessionBridge.class_name(store_key)}")
      %i[connect_timeout read_timeout write_timeout].each do |name|
        check(number_within?(public_send(name), MAX_TIMEOUT), "#{name} must be more than 0 and at most #{MAX_TIMEOUT} seconds")
      end
      check(Integer === pool_size && pool_size.between?(1, MAX_POOL_SIZE), "pool_size must be an Integer from 1 to #{MAX_POOL_SIZE}")
      check(Integer === max_payload_bytes && max_payload_bytes.between?(2, MAX_PAYLOAD_LIMIT),
            "max_payload_bytes must be an Integer from 2 to #{MAX_PAYLOAD_LIMIT}")
      check(ttl.nil? || number_within?(ttl, MAX_TTL), "ttl must be more than 0 and at most #{MAX_TTL} seconds, or nil")
      check([true, false].include?(hash_tokens), "hash_tokens must be true or false")
      check(ssl_ca_file.nil? || String === ssl_ca_file, "ssl_ca_file must be a path String or nil")
      check(refresh_interval.nil? || number_within?(refresh_interval, MAX_TTL),
            "refresh_interval must be more than 0 and at most #{MAX_TTL} seconds, or nil")
      check(Integer === sweep_batch && sweep_batch.between?(0, 1000), "sweep_batch must be an Integer from 0 to 1000")
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
      return true if secure_prefix?

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
      check(String === cookie_name && COOKIE_NAME.match?(cookie_name),
            "cookie_name must be a non-empty String of cookie-name characters")
      check(SAME_SITE.include?(cookie_same_site), "cookie_same_site must be one of #{SAME_SITE.inspect}")
      check([true, false, nil].include?(cookie_secure), "cookie_secure must be true, false or nil (automatic)")
      check(cookie_same_site != :none || secure_cookie?, "cookie_same_site :none needs cookie_secure true")
      check(String === cookie_path && cookie_path.start_with?("/"), "cookie_path must start with /")
      check(!secure_prefix? || cookie_secure != false, "a #{cookie_name[/\A__\w+-/]} cookie_name needs cookie_secure true or nil")
      return unless host_prefix?

      check(cookie_path == "/" && cookie_domain.nil?, "a __Host- cookie_name needs cookie_path \"/\" and no cookie_domain")
    end

    # Browsers keep a __Host- cookie only when it is Secure, for path / and without a domain, so no
    # sibling subdomain can set or shadow it; __Secure- only asks for Secure.
    def host_prefix?
      String === cookie_name && cookie_name.start_with?("__Host-")
    end

    def secure_prefix?
      host_prefix? || (String === cookie_name && cookie_name.start_with?("__Secure-"))
    end

    # Settings may hold anything, BasicObject included, so only Module#=== is asked of them.
    def number_within?(value, max)
      Numeric === value && value.real? && value.positive? && value <= max
    end

    def callable?(value)
      Proc === value || Method === value || (Object === value && value.respond_to?(:call))
    end

    def check(condition, message)
      raise ConfigurationError, message unless condition
    end

    # Everything up to the last "@" goes: a password may hold a raw "@" (or ":" or "/").
    def redacted_redis_url
      return "(a #{SessionBridge.class_name(redis_url)})" unless String === redis_url

      redis_url.sub(%r{//.*@}m, "//[redacted]@")
    end
  end
end
