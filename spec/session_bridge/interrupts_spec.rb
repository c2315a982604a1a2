# frozen_string_literal: true

# Interrupts (Timeout, Thread#raise, Thread#kill, Ctrl-C) and deadlines. Whatever could abort or
# leak runs in a child process (spec/support/child_ruby.rb), so a regression fails one example.
RSpec.describe "Interrupts and deadlines" do
  # A server that accepts and never answers.
  def stalled_server
    FakeServer.new { |client| client.read }
  end

  it "never aborts the process when Timeout interrupts a loop of publishes of unstorable data" do
    # Each round ends at a random point of a call; a round takes about a thread time slice.
    output, status = run_ruby(<<~RUBY)
      SessionBridge.configure { |c| c.redis_url = "redis://127.0.0.1:#{closed_port}/0" }
      rounds = 0
      deadline = Process.clock_gettime(Process::CLOCK_MONOTONIC) + 3
      while Process.clock_gettime(Process::CLOCK_MONOTONIC) < deadline
        rounds += 1
        begin
          Timeout.timeout(0.01) do
            loop do
              SessionBridge.publish({ "at" => Time.now })
            rescue SessionBridge::SerializationError
              nil
            end
          end
        rescue Timeout::Error
          nil
        end
      end
      puts rounds
    RUBY

    expect(status.success?).to be(true), output
    expect(Integer(output)).to be >= 10
  end

  it "never aborts the process when Timeout, Thread#raise and Thread#kill land on calls that time out" do
    server = stalled_server
    output, status = run_ruby(<<~RUBY)
      SessionBridge.configure { |c| c.redis_url = "#{server.url}"; c.read_timeout = 0.002 }
      Stop = Class.new(Exception) # not a StandardError, so nothing on the way rescues it
      Thread.report_on_exception = false
      token = "0" * 32
      fetch_forever = -> { loop { SessionBridge.fetch(token) rescue SessionBridge::TimeoutError } }
      raised = Hash.new(0)
      300.times do |i|
        worker = Thread.new do
          fetch_forever.call
        rescue Stop => e
          raised[e.class] += 1
        end
        sleep(rand * 0.005)
        case i % 3
        when 0 then worker.raise(Stop)
        when 1 then worker.kill
        else (Timeout.timeout(rand * 0.005) { fetch_forever.call } rescue raised[Timeout::Error] += 1)
        end
        begin
          worker.kill.join
        rescue Stop # raised before the thread's own rescue was in place
          raised[Stop] += 1
        end
      end
      puts raised.keys.map(&:name).sort.join(",")
    RUBY

    expect(status.success?).to be(true), output
    expect(output.chomp.split(",")).to eq(%w[Stop Timeout::Error])
  ensure
    server&.close
  end

  describe "1,000 interrupts of calls against a stalled and a slow Redis" do
    before(:all) { @slow = RedisServer.start(extra_args: %w[--enable-debug-command local]) }
    after(:all) { @slow.cleanup }

    it "leave open files at the baseline and Redis with no more clients than the pool" do
      server = stalled_server
      pool_size = 3
      observer = Redis.new(url: @slow.url)
      sleeper = Redis.new(url: @slow.url)
      slowing = Thread.new { loop { sleeper.call("DEBUG", "SLEEP", "0.003") } }
      script = <<~RUBY
        def fds = Dir.children("/proc/self/fd").size
        def client(url) = SessionBridge::Configuration.new.tap do |c|
          c.redis_url = url
          c.pool_size = #{pool_size}
          c.read_timeout = 5
        end.build_client
        Stop = Class.new(StandardError)
        Thread.report_on_exception = false
        stalled = client("#{server.url}")
        slow = client("#{@slow.url}")
        token = slow.publish({ "n" => 1 }, "", nil)
        baseline = fds
        1_000.times do |i|
          target = i.even? ? stalled : slow
          call = -> { 50.times { target.fetch(token) } }
          case i % 3
          when 0 then (Timeout.timeout(rand * 0.004) { call.call } rescue Timeout::Error)
          when 1
            worker = Thread.new { call.call }
            sleep(rand * 0.004)
            worker.raise(Stop)
            begin
              worker.join # re-raises Stop, wherever it landed (even before the call began)
            rescue Stop
              nil
            end
          else
            worker = Thread.new { call.call }
            sleep(rand * 0.004)
            worker.kill.join
          end
        end
        raise "lost the entry" unless slow.fetch(token) == { "n" => 1 }
        puts JSON.generate(baseline: baseline, after: fds)
        $stdout.flush
        $stdin.gets
      RUBY
      with_ruby(script) do |stdin, out, waiter|
        figures = JSON.parse(out.gets || "{}")
        clients = observer.info("clients")["connected_clients"].to_i - 2 # less observer and sleeper

        expect(figures["after"]).to be_within(2).of(figures["baseline"]), figures.inspect
        expect(clients).to be <= pool_size + 1
        stdin.puts
        expect(waiter.value.success?).to be(true)
      end
    ensure
      slowing&.kill&.join
      [observer, sleeper].compact.each(&:close)
      server&.close
    end
  end

  it "keeps an interrupt during the encode walk the interrupt, never a SerializationError" do
    # A walk long enough (about 0.2 s) for Ruby's thread timer to hand the GVL to Timeout's thread
    # while it runs: reading a Symbol's name through a Ruby method call then let Timeout::Error in,
    # and the walk reported it as an unstorable key.
    configure_bridge(max_payload_bytes: 64 * 1024 * 1024)
    data = Array.new(300_000) { |i| [:"key_#{i}", 2**70 + i] }.to_h
    raised = Array.new(5) do
      Timeout.timeout(0.03) { SessionBridge.publish(data) }
      :published
    rescue Timeout::Error, SessionBridge::SerializationError => e
      e.class
    end

    expect(raised).to eq([Timeout::Error] * 5)
    expect(SessionBridge.fetch(SessionBridge.publish(data.first(3).to_h))).to eq(
      "key_0" => 2**70, "key_1" => 2**70 + 1, "key_2" => 2**70 + 2
    )
  end

  it "bounds the whole call by read_timeout when a server trickles its reply" do
    server = FakeServer.new do |client|
      client.readpartial(1024)
      "$10\r\n0123456789\r\n".each_char do |byte|
        client.write(byte)
        sleep 0.3
      end
      client.read
    end
    configure_bridge(redis_url: server.url, read_timeout: 0.5)

    error, seconds = timed { SessionBridge.fetch("0" * 32) }

    expect(error).to be_a(SessionBridge::TimeoutError)
    expect(seconds).to be < 0.8
  ensure
    server&.close
  end

  it "lets Timeout stop a call that is still connecting" do
    listener = Socket.new(:INET, :STREAM)
    listener.bind(Addrinfo.tcp("127.0.0.1", 0))
    listener.listen(0)
    # A full accept queue: further SYNs are dropped and connect() hangs.
    fillers = Array.new(4) { Socket.tcp("127.0.0.1", listener.local_address.ip_port, connect_timeout: 0.2) rescue nil } # rubocop:disable Style/RescueModifier
    configure_bridge(redis_url: "redis://127.0.0.1:#{listener.local_address.ip_port}/0", connect_timeout: 3)

    error, seconds = timed { Timeout.timeout(0.05) { SessionBridge.fetch("0" * 32) } }

    expect(error).to be_a(Timeout::Error)
    expect(seconds).to be < 0.2
  ensure
    fillers&.compact&.each(&:close)
    listener&.close
  end

  it "handles Ctrl-C within 0.3 s in a single-threaded process blocked on a paused Redis" do
    script = <<~RUBY
      SessionBridge.configure { |c| c.redis_url = "#{redis_server.url}"; c.read_timeout = 10 }
      token = SessionBridge.publish({ "n" => 1 })
      puts "ready"
      $stdout.flush
      $stdin.gets
      begin
        SessionBridge.fetch(token)
        puts "not interrupted"
      rescue Interrupt
        puts Process.clock_gettime(Process::CLOCK_MONOTONIC)
      end
    RUBY
    with_ruby(script) do |stdin, out, waiter|
      expect(out.gets).to eq("ready\n")
      redis_server.pause
      stdin.puts
      sleep 0.3
      signalled = Process.clock_gettime(Process::CLOCK_MONOTONIC)
      Process.kill("INT", waiter.pid)
      handled = Float(out.gets)

      expect(handled - signalled).to be < 0.3
      expect(waiter.value.success?).to be(true)
    end
  ensure
    redis_server.resume
  end

  it "lets a trap run and the call go on when a signal that raises nothing arrives mid-call (single thread)" do
    slow = FakeServer.new do |client|
      client.readpartial(1024)
      sleep 0.4
      client.write("$2\r\n{}\r\n$-1\r\n*2\r\n$10\r\n1700000000\r\n$1\r\n0\r\n") # HGET, ZSCORE, TIME
      client.read
    end
    script = <<~RUBY
      trapped = false
      trap("USR1") { trapped = true }
      SessionBridge.configure { |c| c.redis_url = "#{slow.url}"; c.read_timeout = 2 }
      puts "ready"
      $stdout.flush
      $stdin.gets
      result = begin
        SessionBridge.fetch("0" * 32).inspect
      rescue SessionBridge::Error => e
        "\#{e.class.name}: \#{e.message}"
      end
      puts JSON.generate(trapped: trapped, result: result)
    RUBY
    with_ruby(script) do |stdin, out, waiter|
      expect(out.gets).to eq("ready\n")
      stdin.puts
      sleep 0.15
      Process.kill("USR1", waiter.pid)
      outcome = JSON.parse(out.gets)

      expect(outcome["trapped"]).to be(true)
      # The call was not cut short by the signal: it read the slow server's replies.
      expect(outcome["result"]).to eq("{}")
      expect(waiter.value.success?).to be(true)
    end
  ensure
    slow&.close
  end

  it "never sends a command twice: a revoke whose reply was lost raises instead of answering false" do
    proxy = FakeServer.proxy(redis_server.port)
    configure_bridge(redis_url: proxy.url)
    token = SessionBridge.publish({ "user_id" => 1 })
    SessionBridge.revoke("f" * 32) # Redis now knows the script, so EVALSHA runs it
    calls = command_calls("evalsha", "eval")

    proxy.drop_replies = true
    expect { SessionBridge.revoke(token) }.to raise_error(SessionBridge::ConnectionError)
    expect(command_calls("evalsha", "eval") - calls).to eq(1)
    expect(raw_redis.hexists("mySessionStore", token)).to be(false)
  ensure
    proxy&.close
  end

  it "replaces a pooled connection that Redis closed, without sending anything on it" do
    token = SessionBridge.publish({ "user_id" => 1 })
    raw_redis.call("CLIENT", "KILL", "TYPE", "normal", "SKIPME", "yes")

    expect(SessionBridge.revoke(token)).to be(true)
  end

  it "raises ConnectionError, not a crash, for a reply that is not RESP" do
    server = FakeServer.new do |client|
      client.readpartial(1024)
      client.write("\r\n")
      client.read
    end
    configure_bridge(redis_url: server.url)

    expect { SessionBridge.fetch("0" * 32) }.to raise_error(SessionBridge::ConnectionError)
  ensure
    server&.close
  end
end
