# frozen_string_literal: true

RSpec.describe "Revocation" do
  it "revokes every entry of a user in one step and leaves other users alone" do
    ada = Array.new(3) { SessionBridge.publish({ "user_id" => 1 }, user_id: 1) }
    grace = SessionBridge.publish({ "user_id" => 2 }, user_id: 2)

    expect(SessionBridge.revoke_user(1)).to eq(3)

    ada.each { |token| expect(SessionBridge.fetch(token)).to be_nil }
    expect(SessionBridge.fetch(grace)).to eq("user_id" => 2)
    expect(raw_redis.exists?("mySessionStore:user:1")).to be(false)
    expect(SessionBridge.revoke_user(1)).to eq(0)
  end

  it "treats Integer and String user ids alike" do
    SessionBridge.publish({ "user_id" => 5 }, user_id: 5)

    expect(SessionBridge.revoke_user("5")).to eq(1)
  end

  it "never counts a single-revoked entry that its user's index still names" do
    token = SessionBridge.publish({ "user_id" => 1 }, user_id: 1)
    SessionBridge.revoke(token)

    expect(SessionBridge.revoke_user(1)).to eq(0)
    expect(raw_redis.keys("mySessionStore*")).to be_empty
  end

  it "announces each removed entry on the revocation channel" do
    first = SessionBridge.publish({ "user_id" => 1 }, user_id: 1)
    second = SessionBridge.publish({ "user_id" => 1 }, user_id: 1)
    single = SessionBridge.publish({ "user_id" => 2 })
    messages = Queue.new
    subscriber = Redis.new(url: redis_server.url)
    listener = Thread.new do
      subscriber.subscribe("mySessionStore:revoked") do |on|
        on.subscribe { messages << :ready }
        on.message { |_channel, field| messages << field }
      end
    end
    expect(messages.pop).to eq(:ready)

    SessionBridge.revoke(single)
    SessionBridge.revoke(single)
    SessionBridge.revoke_user(1)

    expect(Array.new(3) { Timeout.timeout(2) { messages.pop } }).to contain_exactly(single, first, second)
    expect(SessionBridge.revocation_channel).to eq("mySessionStore:revoked")
  ensure
    listener&.kill
    subscriber&.close
  end

  [nil, 1.5, :sym, "", "a\r\nb", "x" * 129, [1]].each do |bad|
    it "rejects the user id #{bad.inspect[0, 20]} with ArgumentError and changes nothing" do
      SessionBridge.publish({ "user_id" => 1 }, user_id: 1)
      before = redis_snapshot

      expect { SessionBridge.revoke_user(bad) }.to raise_error(ArgumentError)
      expect { SessionBridge.publish({ "user_id" => 1 }, user_id: bad) }.to raise_error(ArgumentError) unless bad.nil?
      expect(redis_snapshot).to eq(before)
    end
  end
end
