# frozen_string_literal: true

RSpec.describe "Faults" do
  let(:token) { "0123456789abcdef0123456789abcdef" }
  let(:operations) do
    {
      publish: -> { SessionBridge.publish({ "user_id" => 1 }, user_id: 1) },
      fetch: -> { SessionBridge.fetch(token) },
      touch: -> { SessionBridge.touch(token) },
      revoke: -> { SessionBridge.revoke(token) },
      revoke_user: -> { SessionBridge.revoke_user(1) },
      sweep: -> { SessionBridge.sweep }
    }
  end

  def expect_every_operation_to_fail(within:, with:)
    operations.each do |name, call|
      error, seconds = timed(&call)
      expect(error).to be_a(with), "#{name} raised #{error.inspect}"
      expect(seconds).to be < within, "#{name} took #{seconds.round(3)}s"
    end
  end

  it "every call raises CannotConnectError within connect_timeout + 0.2 s when Redis is stopped" do
    configure_bridge(connect_timeout: 0.3)
    redis_server.stop

    expect_every_operation_to_fail(within: 0.5, with: SessionBridge::CannotConnectError)
  end

  it "every call raises TimeoutError within read_timeout + 0.2 s when Redis is paused" do
    configure_bridge(read_timeout: 0.3, connect_timeout: 0.3)
    SessionBridge.fetch(token) # an open pooled connection, so the pause hits a read
    redis_server.pause

    expect_every_operation_to_fail(within: 0.5, with: SessionBridge::ConnectionError)
  ensure
    redis_server.resume
  end

  it "raises CannotConnectError within connect_timeout + 0.2 s when connections hang (full backlog)" do
    listener = Socket.new(:INET, :STREAM)
    listener.bind(Addrinfo.tcp("127.0.0.1", 0))
    listener.listen(0)
    # Fill the accept queue so further SYNs are dropped and connect() hangs.
    fillers = Array.new(4) { Socket.tcp("127.0.0.1", listener.local_address.ip_port, connect_timeout: 0.2) rescue nil }
    configure_bridge(redis_url: "redis://127.0.0.1:#{listener.local_address.ip_port}/0", connect_timeout: 0.3)

    expect_every_operation_to_fail(within: 0.5, with: SessionBridge::ConnectionError)
  ensure
    fillers&.compact&.each(&:close)
    listener&.close
  end

  describe "a restarted Redis" do
    before(:all) { @durable = RedisServer.start(extra_args: %w[--appendonly yes --appendfsync always]) }
    after(:all) { @durable.cleanup }

    it "is reconnected to, and neither loses an acknowledged write nor shows a failed one" do
      configure_bridge(redis_url: @durable.url, connect_timeout: 0.3)
      written = SessionBridge.publish({ "user_id" => 1 })

      @durable.restart
      expect(SessionBridge.fetch(written)).to eq("user_id" => 1)

      @durable.stop
      expect { SessionBridge.publish({ "user_id" => 2 }) }.to raise_error(SessionBridge::ConnectionError)
      @durable.start
      observer = Redis.new(url: @durable.url)
      expect(observer.hvals("mySessionStore").map { |json| JSON.parse(json) }).to eq([{ "user_id" => 1 }])
    ensure
      observer&.close
    end
  end

  it "never hands a late reply to a later call" do
    configure_bridge(read_timeout: 0.2)
    tokens = Array.new(3) { |i| SessionBridge.publish({ "n" => i }) }
    redis_server.pause
    expect { SessionBridge.fetch(tokens[0]) }.to raise_error(SessionBridge::TimeoutError)
    redis_server.resume
    sleep 0.05 # the late reply to the first fetch arrives now, on the discarded connection

    expect(tokens.map { |t| SessionBridge.fetch(t) }).to eq([{ "n" => 0 }, { "n" => 1 }, { "n" => 2 }])
  ensure
    redis_server.resume # a failed expectation must not leave the suite's server paused
  end

  it "keeps 8 threads doing 5,000 publish/fetch/revoke each apart, losing nothing" do
    configure_bridge(pool_size: 8)
    failures = Queue.new
    threads = Array.new(8) do |t|
      Thread.new do
        5_000.times do |i|
          data = { "thread" => t, "i" => i }
          token = SessionBridge.publish(data, user_id: t)
          failures << [t, i, :fetch] unless SessionBridge.fetch(token) == data
          failures << [t, i, :revoke] unless SessionBridge.revoke(token) == true
        end
      end
    end
    threads.each(&:join)

    expect(failures.size).to eq(0), failures.size.times.map { failures.pop }.first(5).inspect
    expect(raw_redis.hlen("mySessionStore")).to eq(0)
  end

  describe "interrupts of a call blocked on a paused Redis" do
    before do
      configure_bridge(read_timeout: 5)
      @mine = SessionBridge.publish({ "mine" => true })
      redis_server.pause
    end

    after { redis_server.resume }

    def expect_the_next_call_to_get_its_own_data
      redis_server.resume
      expect(SessionBridge.fetch(@mine)).to eq("mine" => true)
    end

    it "Thread#kill stops it promptly" do
      blocked = Thread.new { SessionBridge.fetch(@mine) }
      sleep 0.1
      _, seconds = timed { blocked.kill.join(2) }

      expect(blocked).not_to be_alive
      expect(seconds).to be < 0.5
      expect_the_next_call_to_get_its_own_data
    end

    it "Thread#raise stops it promptly with the raised exception" do
      blocked = Thread.new { SessionBridge.fetch(@mine) rescue $! } # rubocop:disable Style/RescueModifier
      sleep 0.1
      _, seconds = timed do
        blocked.raise(ArgumentError, "stop")
        blocked.join(2)
      end

      expect(blocked.value).to be_a(ArgumentError)
      expect(seconds).to be < 0.5
      expect_the_next_call_to_get_its_own_data
    end

    it "Timeout.timeout stops it promptly" do
      error, seconds = timed { Timeout.timeout(0.1) { SessionBridge.fetch(@mine) } }

      expect(error).to be_a(Timeout::Error)
      expect(seconds).to be < 0.5
      expect_the_next_call_to_get_its_own_data
    end
  end

  describe "fork" do
    it "gives the child its own connection; child writes and parent reads run together" do
      SessionBridge.fetch("0123456789abcdef0123456789abcdef") # the parent holds a pooled connection
      parent_token = SessionBridge.publish({ "owner" => "parent" })
      reader, writer = IO.pipe

      child = fork do
        reader.close
        tokens = Array.new(1_000) { |i| SessionBridge.publish({ "child" => i }) }
        ok = tokens.each_with_index.all? { |t, i| SessionBridge.fetch(t) == { "child" => i } }
        writer.write(ok ? "ok" : "mismatch")
        writer.close
        exit!(ok ? 0 : 1)
      end
      writer.close
      parent_reads = Array.new(1_000) { SessionBridge.fetch(parent_token) }
      Process.wait(child)

      expect($?.exitstatus).to eq(0)
      expect(reader.read).to eq("ok")
      expect(parent_reads.uniq).to eq([{ "owner" => "parent" }])
      expect(SessionBridge.fetch(parent_token)).to eq("owner" => "parent")
      expect(raw_redis.hlen("mySessionStore")).to eq(1_001)
    ensure
      reader&.close
    end

    it "is unaffected by a child that exits, cleanly or not" do
      token = SessionBridge.publish({ "owner" => "parent" })
      Process.wait(fork { SessionBridge.fetch(token); exit!(0) })
      Process.wait(fork { SessionBridge.fetch(token); exit(0) })

      expect(SessionBridge.fetch(token)).to eq("owner" => "parent")
    end
  end
end
