# frozen_string_literal: true

# The wire contract in contract/*.json, checked against what the gem really writes. The Node
# companion's tests (clients/node/test) read the same files, so the two halves cannot drift.
RSpec.describe "The wire contract shared with the Node.js companion" do
  def contract(name)
    JSON.parse(File.read(File.expand_path("../contract/#{name}.json", __dir__)))
  end

  let(:wire) { contract("wire") }
  let(:store_key) { wire.fetch("store_key") }

  def key(name, user_id: nil)
    wire.dig("keys", name, "name").sub("{store_key}", store_key).sub("{user_id}", user_id.to_s)
  end

  def redis_now_ms
    raw_redis.time.then { |seconds, micros| seconds * 1000 + micros / 1000 }
  end

  def announcements
    messages = Queue.new
    subscriber = Redis.new(url: redis_server.url)
    listener = Thread.new do
      subscriber.subscribe(wire.fetch("revocation_channel").sub("{store_key}", store_key)) do |on|
        on.subscribe { messages << :ready }
        on.message { |_channel, field| messages << field }
      end
    end
    expect(messages.pop).to eq(:ready)
    yield
    Timeout.timeout(2) { messages.pop }
  ensure
    listener&.kill
    subscriber&.close
  end

  it "uses the contract's cookie name, store key, lifetime and payload limit by default" do
    defaults = SessionBridge::Configuration::DEFAULTS

    expect(defaults[:cookie_name]).to eq(wire.dig("cookie", "name"))
    expect(defaults[:store_key]).to eq(store_key)
    expect(defaults[:ttl]).to eq(wire.fetch("default_ttl_seconds"))
    expect(defaults[:max_payload_bytes]).to eq(wire.fetch("max_payload_bytes"))
  end

  it "mints tokens of the contract's shape and lays entries out under the contract's keys" do
    token = SessionBridge.publish({ "user_id" => 7 }, user_id: 7)

    expect(token).to match(Regexp.new(wire.dig("cookie", "token_pattern")))
    expect(token.length).to eq(wire.dig("cookie", "token_length"))
    %w[entries expires user_entries].each do |name|
      expect(raw_redis.type(key(name, user_id: 7))).to eq(wire.dig("keys", name, "type")), name
    end
    expect(raw_redis.hget(key("entries"), token)).to eq('{"user_id":7}')
    expect(raw_redis.zscore(key("expires"), token))
      .to be_within(2000).of(redis_now_ms + wire.fetch("default_ttl_seconds") * 1000)
    expect(raw_redis.hkeys(key("user_entries", user_id: 7))).to eq([token])
    expect(SessionBridge.revocation_channel).to eq(wire.fetch("revocation_channel").sub("{store_key}", store_key))
  end

  it "stores exactly the contract's JSON string for each example" do
    contract("json_examples").fetch("examples").each do |example|
      token = SessionBridge.publish(eval(example.fetch("ruby"))) # the fixture holds a Ruby expression

      expect(raw_redis.hget(store_key, token)).to eq(example.fetch("stored")), example.fetch("name")
      expect(SessionBridge.fetch(token)).to eq(JSON.parse(example.fetch("stored"))), example.fetch("name")
    end
  end

  it "reads entries within the contract's read limits and refuses the others with SerializationError" do
    contract("read_limits").fetch("cases").each do |example|
      next if example.key?("pad_to") # the size limit is fetch's to enforce, not the JSON reader's

      nest = example["nest"]
      json = example.fetch("json") { %({"a":#{"[" * nest}#{"]" * nest}}) }
      if example.fetch("accepted")
        expect(SessionBridge::Native.load_json(json)).to eq(JSON.parse(json, max_nesting: false)), example.fetch("name")
      else
        expect { SessionBridge::Native.load_json(json) }
          .to raise_error(SessionBridge::SerializationError), example.fetch("name")
      end
    end
  end

  it "refuses, through fetch, every entry read_limits.json refuses, and no more" do
    limits = contract("read_limits")
    expect(SessionBridge::Native::MAX_DEPTH).to eq(limits.fetch("max_write_depth"))
    expect(SessionBridge.configuration.max_payload_bytes).to eq(limits.fetch("max_payload_bytes"))
    limits.fetch("cases").each_with_index do |example, i|
      nest, pad_to = example.values_at("nest", "pad_to")
      json = example["json"] || (nest && %({"a":#{"[" * nest}#{"]" * nest}}))
      json ||= %({"pad":"#{"x" * (pad_to - 10)}"})
      token = format("%032x", i + 1)
      raw_redis.hset(store_key, token, json)
      if example.fetch("accepted")
        expect(SessionBridge.fetch(token)).to eq(JSON.parse(json, max_nesting: false)), example.fetch("name")
      else
        expect { SessionBridge.fetch(token) }.to raise_error(SessionBridge::SerializationError), example.fetch("name")
      end
    end
  end

  it "rejects an entry whose expiry score is not after Redis' now, and keeps one without a score" do
    expired, forever = contract("hash_tokens").fetch("examples").map { |example| example.fetch("token") }
    raw_redis.hset(store_key, expired, '{"user_id":1}', forever, '{"user_id":2}')
    raw_redis.zadd(key("expires"), redis_now_ms - 1, expired)

    expect(SessionBridge.fetch(expired)).to be_nil
    expect(SessionBridge.fetch(forever)).to eq("user_id" => 2)
  end

  it "refuses an entry whose expiry score is not a finite number, as the companion does" do
    %w[inf -inf +inf].each_with_index do |score, i|
      token = format("%032x", i + 1)
      raw_redis.hset(store_key, token, '{"user_id":1}')
      raw_redis.zadd(key("expires"), score, token)

      expect { SessionBridge.fetch(token) }.to raise_error(SessionBridge::SerializationError, /not a finite number/), score
    end
  end

  it "announces the field of a revoked entry on the contract's channel" do
    token = SessionBridge.publish({ "user_id" => 1 })

    expect(announcements { SessionBridge.revoke(token) }).to eq(token)
  end

  it "stores, finds and announces entries under the contract's SHA-256 field with hash_tokens" do
    configure_bridge(hash_tokens: true)
    contract("hash_tokens").fetch("examples").each do |example|
      expect(Digest::SHA256.hexdigest(example.fetch("token"))).to eq(example.fetch("field"))
      raw_redis.hset(store_key, example.fetch("field"), '{"user_id":3}')

      expect(SessionBridge.fetch(example.fetch("token"))).to eq("user_id" => 3)
      expect(announcements { SessionBridge.revoke(example.fetch("token")) }).to eq(example.fetch("field"))
    end
    token = SessionBridge.publish({ "user_id" => 4 })
    expect(raw_redis.hkeys(store_key)).to eq([Digest::SHA256.hexdigest(token)])
  end
end
