# frozen_string_literal: true

RSpec.describe "SessionBridge.publish, .fetch and .revoke" do
  let(:data) { { "user_id" => 1, "username" => "ada" } }

  it "stores the JSON under the token in the mySessionStore hash" do
    token = SessionBridge.publish(data, session_id: "abc")

    expect(token).to match(/\A[0-9a-f]{32}\z/)
    expect(JSON.parse(raw_redis.hget("mySessionStore", token))).to eq(data)
  end

  it "reads the entry back as a Hash with String keys" do
    token = SessionBridge.publish({ user_id: 7, roles: %w[admin], profile: { name: "Ada" } })

    expect(SessionBridge.fetch(token)).to eq(
      "user_id" => 7, "roles" => ["admin"], "profile" => { "name" => "Ada" }
    )
  end

  it "returns nil for a token that was never published" do
    expect(SessionBridge.fetch("0123456789abcdef0123456789abcdef")).to be_nil
  end

  it "revokes an entry once: true, then false" do
    token = SessionBridge.publish(data)

    expect(SessionBridge.revoke(token)).to be(true)
    expect(SessionBridge.revoke(token)).to be(false)
    expect(SessionBridge.fetch(token)).to be_nil
    expect(raw_redis.hexists("mySessionStore", token)).to be(false)
  end

  it "leaves other sessions alone when one is revoked" do
    kept = SessionBridge.publish({ "user_id" => 1 })
    gone = SessionBridge.publish({ "user_id" => 2 })

    SessionBridge.revoke(gone)

    expect(SessionBridge.fetch(kept)).to eq("user_id" => 1)
  end

  it "uses the configured store key and database" do
    configure_bridge(store_key: "otherStore", redis_url: redis_server.url(db: 3))
    token = SessionBridge.publish(data)

    db3 = Redis.new(url: redis_server.url(db: 3))
    expect(JSON.parse(db3.hget("otherStore", token))).to eq(data)
    expect(raw_redis.exists?("mySessionStore")).to be(false)
  ensure
    db3&.close
  end

  it "writes exactly what a Node.js server reads with HGET and JSON.parse" do
    token = SessionBridge.publish({ "user_id" => 1, "name" => "Zoë \"quoted\" \u2028" })
    stored = raw_redis.hget("mySessionStore", token)

    expect(stored.encoding).to eq(Encoding::UTF_8).or eq(Encoding::BINARY)
    expect(JSON.parse(stored.force_encoding("UTF-8"))).to eq("user_id" => 1, "name" => "Zoë \"quoted\" \u2028")
  end

  describe "values that cannot be tokens" do
    SESSION_COMMANDS = %w[hget zscore time evalsha eval].freeze

    it "are told apart from a real token, which does ask Redis (so the count below means something)" do
      before = command_calls(*SESSION_COMMANDS)
      SessionBridge.fetch("0123456789abcdef0123456789abcdef")
      SessionBridge.revoke("0123456789abcdef0123456789abcdef")

      expect(command_calls(*SESSION_COMMANDS) - before).to be >= 4
    end

    [nil, 42, :sym, "", "short", "0123456789ABCDEF0123456789ABCDEF", "0123456789abcdef0123456789abcdef0",
     "0123456789abcdef0123456789abcd\r\n", "0123456789abcdef0123456789abcdeg", "x" * 10_000_000,
     "\xff".b * 32, ["0123456789abcdef0123456789abcdef"]].each do |candidate|
      it "answers #{candidate.inspect[0, 40]} without asking Redis" do
        before = command_calls(*SESSION_COMMANDS)

        expect(SessionBridge.fetch(candidate)).to be_nil
        expect(SessionBridge.revoke(candidate)).to be(false)
        expect(command_calls(*SESSION_COMMANDS)).to eq(before)
      end
    end
  end

  describe "tokens" do
    it "are 32 lowercase hex characters and differ for the same session" do
      first = SessionBridge.publish(data, session_id: "same")
      second = SessionBridge.publish(data, session_id: "same")

      expect([first, second]).to all(match(/\A[0-9a-f]{32}\z/))
      expect(first).not_to eq(second)
    end

    it "are not the digest of the session id" do
      token = SessionBridge.publish(data, session_id: "abc")

      expect(token).not_to eq(Digest::MD5.hexdigest("abc"))
    end

    it "never repeat over 100,000 publishes" do
      tokens = Array.new(100_000) { SessionBridge.publish({ "u" => 1 }, session_id: "s") }

      expect(tokens.uniq.size).to eq(100_000)
      expect(raw_redis.hlen("mySessionStore")).to eq(100_000)
    end
  end
end
