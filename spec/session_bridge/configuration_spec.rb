# frozen_string_literal: true

RSpec.describe SessionBridge::Configuration do
  it "has the seed's defaults" do
    SessionBridge.reset_configuration!
    config = SessionBridge.configuration

    expect(config.store_key).to eq("mySessionStore")
    expect(config.cookie_name).to eq("_validation_token_key")
    expect([config.connect_timeout, config.read_timeout, config.write_timeout]).to eq([1.0, 1.0, 1.0])
    expect(config.max_payload_bytes).to eq(65_536)
    expect(config.cookie_options).to eq(httponly: true, same_site: :lax, secure: false, path: "/")
  end

  it "works without configure, from REDIS_URL and the defaults" do
    SessionBridge.reset_configuration!
    ENV["REDIS_URL"], saved = redis_server.url, ENV["REDIS_URL"]

    token = SessionBridge.publish({ "user_id" => 1 })

    expect(SessionBridge.fetch(token)).to eq("user_id" => 1)
    expect(SessionBridge.revocation_channel).to eq("mySessionStore:revoked")
  ensure
    ENV["REDIS_URL"] = saved
  end

  it "publishes user_id by default" do
    user = Struct.new(:id).new(5)

    expect(SessionBridge.configuration.session_data.call(user)).to eq("user_id" => 5)
  end

  {
    "a URL that is not redis://" => { redis_url: "http://127.0.0.1:6379" },
    "an unparsable URL" => { redis_url: "not a url" },
    "a URL with no host" => { redis_url: "redis://" },
    "a nil URL" => { redis_url: nil },
    "an empty store key" => { store_key: "" },
    "a store key with spaces" => { store_key: "my store" },
    "a store key with CRLF" => { store_key: "store\r\nFLUSHALL" },
    "a Symbol store key" => { store_key: :store },
    "a zero timeout" => { read_timeout: 0 },
    "a negative timeout" => { connect_timeout: -1 },
    "a cookie name with a space" => { cookie_name: "my cookie" },
    "an unknown SameSite" => { cookie_same_site: :loose },
    "SameSite None without Secure" => { cookie_same_site: :none, cookie_secure: false },
    "a zero pool" => { pool_size: 0 },
    "a pool of 2**64" => { pool_size: 2**64 },
    "a tiny max_payload_bytes" => { max_payload_bytes: 1 },
    "a max_payload_bytes of 2**64" => { max_payload_bytes: 2**64 },
    "a read_timeout of 1e19 seconds" => { read_timeout: 1e19 },
    "a connect_timeout of two hours" => { connect_timeout: 7200 },
    "an infinite ttl" => { ttl: Float::INFINITY },
    "a BasicObject URL" => { redis_url: BasicObject.new },
    "a BasicObject store key" => { store_key: BasicObject.new },
    "a BasicObject timeout" => { write_timeout: BasicObject.new },
    "a BasicObject session_data" => { session_data: BasicObject.new },
    "a __Host- cookie name with a domain" => { cookie_name: "__Host-sb", cookie_domain: "example.com" },
    "a __Host- cookie name with a path" => { cookie_name: "__Host-sb", cookie_path: "/app" },
    "a __Host- cookie name that is not Secure" => { cookie_name: "__Host-sb", cookie_secure: false }
  }.each do |name, settings|
    it "rejects #{name} at configure time and keeps the previous settings" do
      token = SessionBridge.publish({ "user_id" => 1 })
      before = SessionBridge.configuration

      expect { configure_bridge(**settings) }.to raise_error(SessionBridge::ConfigurationError)
      expect(SessionBridge.configuration).to be(before)
      expect(SessionBridge.fetch(token)).to eq("user_id" => 1)
    end
  end

  it "rejects a session_data that cannot be called" do
    expect { SessionBridge.configure { |c| c.session_data = "user_id" } }
      .to raise_error(SessionBridge::ConfigurationError, /session_data/)
  end

  it "is frozen once applied, so changes go through configure" do
    expect { SessionBridge.configuration.store_key = "x" }.to raise_error(FrozenError)
  end

  it "never shows the Redis password in inspect output" do
    configure_bridge(redis_url: "redis://user:hunter2@127.0.0.1:#{redis_server.port}/0")

    expect(SessionBridge.configuration.inspect).not_to include("hunter2")
    expect(SessionBridge.configuration.inspect).to include("[redacted]")
  end

  it "redacts the whole userinfo, whatever characters the password holds" do
    ["redis://:hunter2@TopSecret@127.0.0.1:#{redis_server.port}/0",
     "redis://us:er:pa:ss@word@127.0.0.1:#{redis_server.port}/0"].each do |url|
      configure_bridge(redis_url: url)
      shown = SessionBridge.configuration.inspect

      expect(shown).to include(%(redis_url="redis://[redacted]@127.0.0.1:#{redis_server.port}/0"))
      %w[hunter2 TopSecret er pa ss word].each { |part| expect(shown).not_to include("#{part}@") }
    end
  end

  it "makes a __Host- cookie Secure, for path / and without a domain" do
    configure_bridge(cookie_name: "__Host-session_bridge")

    expect(SessionBridge.configuration.cookie_options).to include(secure: true, path: "/")
    expect(SessionBridge.configuration.cookie_options).not_to have_key(:domain)
  end

  it "accepts a session_data block" do
    SessionBridge.configure { |c| c.session_data { |user| { "id" => user.id, "name" => user.name } } }
    user = Struct.new(:id, :name).new(1, "Ada")

    expect(SessionBridge.configuration.session_data.call(user)).to eq("id" => 1, "name" => "Ada")
  end
end
