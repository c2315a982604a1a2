# frozen_string_literal: true

RSpec.describe "When Redis is unavailable" do
  let(:data) { { "user_id" => 1 } }

  it "raises CannotConnectError within the connect timeout when nothing listens" do
    configure_bridge(redis_url: "redis://127.0.0.1:#{closed_port}/0", connect_timeout: 0.5)

    %i[publish fetch revoke].each do |operation|
      argument = operation == :publish ? data : "0123456789abcdef0123456789abcdef"
      error, seconds = timed { SessionBridge.public_send(operation, argument) }

      expect(error).to be_a(SessionBridge::CannotConnectError)
      expect(error).to be_a(SessionBridge::ConnectionError)
      expect(error.message).to match(/cannot connect to Redis at 127\.0\.0\.1:\d+/)
      expect(seconds).to be < 0.7
    end
  end

  it "raises TimeoutError within the read timeout when Redis stops answering" do
    configure_bridge(read_timeout: 0.3)
    token = SessionBridge.publish(data)
    redis_server.pause

    error, seconds = timed { SessionBridge.fetch(token) }

    expect(error).to be_a(SessionBridge::TimeoutError)
    expect(seconds).to be_between(0.25, 0.5)
  ensure
    redis_server.resume
  end

  it "reconnects after Redis restarts, without restarting Ruby" do
    SessionBridge.publish(data)
    redis_server.restart

    token = SessionBridge.publish(data)

    expect(SessionBridge.fetch(token)).to eq(data)
  end

  it "raises a ConnectionError while Redis is down and recovers when it is back" do
    configure_bridge(connect_timeout: 0.3)
    SessionBridge.publish(data)
    redis_server.stop

    expect { SessionBridge.publish(data) }.to raise_error(SessionBridge::ConnectionError)
    redis_server.start
    expect(SessionBridge.fetch(SessionBridge.publish(data))).to eq(data)
  end

  it "lets other Ruby threads run while a call waits on Redis" do
    configure_bridge(read_timeout: 0.5)
    redis_server.pause
    ticks = 0
    ticker = Thread.new { loop { ticks += 1 if sleep(0.01) } }

    expect { SessionBridge.fetch("0123456789abcdef0123456789abcdef") }.to raise_error(SessionBridge::TimeoutError)
    expect(ticks).to be > 20
  ensure
    ticker&.kill
    redis_server.resume
  end

  it "reports a wrong type under the store key as a CommandError" do
    raw_redis.set("mySessionStore", "not a hash")

    expect { SessionBridge.publish(data) }.to raise_error(SessionBridge::CommandError, /WRONGTYPE/)
  end
end
