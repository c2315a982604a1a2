# frozen_string_literal: true

RSpec.describe "Entry lifetime" do
  let(:data) { { "user_id" => 1 } }

  it "gives every entry a lifetime of ttl (24 hours by default), in Redis time" do
    token = SessionBridge.publish(data)
    redis_now_ms = raw_redis.time.then { |s, us| s * 1000 + us / 1000 }

    expires = raw_redis.zscore("mySessionStore:expires", token)
    expect(expires).to be_within(2000).of(redis_now_ms + 24 * 3600 * 1000)
  end

  it "never returns an entry past its expiry, even before it is swept" do
    configure_bridge(ttl: 0.2)
    token = SessionBridge.publish(data)
    expect(SessionBridge.fetch(token)).to eq(data)

    sleep 0.3

    expect(raw_redis.hexists("mySessionStore", token)).to be(true)
    expect(SessionBridge.fetch(token)).to be_nil
  end

  it "removes expired entries as part of later publishes, even when nobody signs out" do
    configure_bridge(ttl: 0.2, sweep_batch: 5)
    stale = Array.new(5) { SessionBridge.publish(data, user_id: 1) }
    sleep 0.3

    fresh = SessionBridge.publish(data, user_id: 1)

    expect(raw_redis.hkeys("mySessionStore")).to eq([fresh])
    expect(raw_redis.zrange("mySessionStore:expires", 0, -1)).to eq([fresh])
    stale.each { |token| expect(SessionBridge.fetch(token)).to be_nil }
  end

  it "removes at most sweep_batch expired entries per publish, one by default" do
    configure_bridge(ttl: 0.2)
    Array.new(5) { SessionBridge.publish(data) }
    sleep 0.3

    2.times { SessionBridge.publish(data) }
    expect(raw_redis.hlen("mySessionStore")).to eq(5 - 2 + 2)
    configure_bridge(ttl: 0.2, sweep_batch: 3)
    SessionBridge.publish(data)
    expect(raw_redis.hlen("mySessionStore")).to eq(5 - 2 - 3 + 3)
  end

  it "prunes a user's index of expired entries as the user signs in again" do
    configure_bridge(ttl: 0.2, sweep_batch: 0)
    Array.new(20) { SessionBridge.publish(data, user_id: 1) }
    sleep 0.3
    SessionBridge.sweep

    fresh = Array.new(10) { SessionBridge.publish(data, user_id: 1) }

    # Each sign-in checks two random fields once the user has eight or more: some of the 20
    # stale ones go (all 20 surviving 20 random picks is a one in 30,000 chance).
    expect(raw_redis.hlen("mySessionStore:user:1")).to be < 30
    expect(raw_redis.hkeys("mySessionStore:user:1")).to include(*fresh)
    expect(SessionBridge.revoke_user(1)).to eq(10)
  end

  it "sweeps every expired entry on demand, in batches" do
    configure_bridge(ttl: 0.2, sweep_batch: 0)
    Array.new(2500) { SessionBridge.publish(data) }
    sleep 0.3
    configure_bridge(ttl: 60, sweep_batch: 0)
    live = SessionBridge.publish(data)

    expect(SessionBridge.sweep).to eq(2500)
    expect(raw_redis.hkeys("mySessionStore")).to eq([live])
    expect(SessionBridge.sweep).to eq(0)
  end

  it "keeps entries forever with ttl nil" do
    configure_bridge(ttl: nil)
    token = SessionBridge.publish(data)

    expect(raw_redis.zscore("mySessionStore:expires", token)).to be_nil
    expect(SessionBridge.fetch(token)).to eq(data)
    expect(SessionBridge.touch(token)).to be(false)
  end

  it "extends a live entry with touch (sliding expiry), but not an expired one" do
    configure_bridge(ttl: 0.4)
    token = SessionBridge.publish(data)
    sleep 0.25
    expect(SessionBridge.touch(token)).to be(true)
    sleep 0.25

    expect(SessionBridge.fetch(token)).to eq(data)
    sleep 0.5
    expect(SessionBridge.touch(token)).to be(false)
    expect(SessionBridge.fetch(token)).to be_nil
  end
end

RSpec.describe "hash_tokens" do
  it "stores SHA-256 of the token, never the token, and still finds it" do
    configure_bridge(hash_tokens: true)
    token = SessionBridge.publish({ "user_id" => 1 }, user_id: 1)
    field = Digest::SHA256.hexdigest(token)

    expect(raw_redis.hkeys("mySessionStore")).to eq([field])
    expect(redis_snapshot.to_s).not_to include(token)
    expect(SessionBridge.fetch(token)).to eq("user_id" => 1)
    expect(SessionBridge.revoke(token)).to be(true)
    expect(raw_redis.exists?("mySessionStore")).to be(false)
  end

  it "does not find an entry by its stored field, only by the token" do
    configure_bridge(hash_tokens: true)
    token = SessionBridge.publish({ "user_id" => 1 })

    expect(SessionBridge.fetch(Digest::SHA256.hexdigest(token)[0, 32])).to be_nil
  end

  describe "a Redis at maxmemory whose entries have all expired" do
    before(:all) { @full = RedisServer.start(extra_args: %w[--maxmemory 3mb --maxmemory-policy noeviction]) }
    after(:all) { @full.cleanup }

    it "heals itself: the next publish sweeps before it writes" do
      configure_bridge(redis_url: @full.url, ttl: 0.05)
      padding = { "pad" => "x" * 4096 }
      published = 0
      oom = begin
        loop do
          SessionBridge.publish(padding)
          published += 1
        end
      rescue SessionBridge::CommandError => e
        e
      end
      expect(oom.message).to start_with("OOM")
      expect(published).to be > 10
      sleep 0.1 # every entry has expired

      configure_bridge(redis_url: @full.url)
      tokens = Array.new(3) { |i| SessionBridge.publish({ "user_id" => i }) }
      expect(tokens.map { |t| SessionBridge.fetch(t) }).to eq([{ "user_id" => 0 }, { "user_id" => 1 }, { "user_id" => 2 }])
    end
  end
end
