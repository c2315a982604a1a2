# frozen_string_literal: true

RSpec.describe "Security" do
  let(:data) { { "user_id" => 1, "secret" => "payload-s3cret" } }

  describe "Redis AUTH and ACL users" do
    before(:all) do
      @acl_server = RedisServer.start(extra_args: [
        "--requirepass", "s3cret",
        "--user", "alice", "on", ">alice-pw", "~*", "&*", "+@all",
        "--user", "limited", "on", ">limited-pw", "~other:*", "&*", "+@all"
      ])
    end

    after(:all) { @acl_server.cleanup }

    def connect(userinfo)
      configure_bridge(redis_url: @acl_server.url(userinfo: userinfo))
    end

    it "works with a password in the URL" do
      connect(":s3cret")

      expect(SessionBridge.fetch(SessionBridge.publish(data))).to eq(data)
    end

    it "works with an ACL user in the URL" do
      connect("alice:alice-pw")

      expect(SessionBridge.fetch(SessionBridge.publish(data))).to eq(data)
    end

    it "raises AuthenticationError, a CommandError, for a wrong password, without retrying" do
      connect("alice:wrong")
      admin = Redis.new(url: @acl_server.url(userinfo: "alice:alice-pw"))
      connections = -> { admin.info("stats")["total_connections_received"].to_i }
      before = connections.call

      expect { SessionBridge.publish(data) }.to raise_error(SessionBridge::AuthenticationError, /WRONGPASS/)
      expect(SessionBridge::AuthenticationError.ancestors).to include(SessionBridge::CommandError)
      expect(connections.call - before).to eq(1)
    ensure
      admin&.close
    end

    it "raises AuthenticationError when no credentials are given" do
      connect(nil)

      expect { SessionBridge.fetch("0123456789abcdef0123456789abcdef") }
        .to raise_error(SessionBridge::AuthenticationError)
    end

    it "raises PermissionError when the ACL user may not touch the store key" do
      connect("limited:limited-pw")

      expect { SessionBridge.publish(data) }.to raise_error(SessionBridge::PermissionError, /NOPERM/)
    end

    it "never shows the password in errors or inspect output" do
      connect("alice:wrong")

      expect { SessionBridge.publish(data) }.to raise_error(SessionBridge::Error) { |e| expect(e.message).not_to include("wrong") }
      expect(SessionBridge.configuration.inspect).not_to include("wrong")
      expect(SessionBridge.send(:client).inspect).not_to include("wrong")
    end
  end

  describe "TLS (rediss://)" do
    before(:all) { @tls_server = RedisServer.start(tls: true) }
    after(:all) { @tls_server.cleanup }

    it "connects with the CA file given in ssl_ca_file" do
      configure_bridge(redis_url: @tls_server.url, ssl_ca_file: @tls_server.tls_files[:ca])

      expect(SessionBridge.fetch(SessionBridge.publish(data))).to eq(data)
    end

    it "raises CannotConnectError for a server whose certificate the CA did not sign" do
      other_ca = TlsCertificates.write(Dir.mktmpdir)[:ca]
      configure_bridge(redis_url: @tls_server.url, ssl_ca_file: other_ca)

      expect { SessionBridge.publish(data) }.to raise_error(SessionBridge::CannotConnectError, /certificate/i)
    end

    it "raises CannotConnectError when plain redis:// meets a TLS server, within the timeout" do
      configure_bridge(redis_url: @tls_server.url.sub("rediss", "redis"), read_timeout: 0.3, connect_timeout: 0.3)

      error, seconds = timed { SessionBridge.publish(data) }
      expect(error).to be_a(SessionBridge::ConnectionError)
      expect(seconds).to be < 1
    end

    it "rejects an unreadable CA file at configure time" do
      expect { configure_bridge(redis_url: @tls_server.url, ssl_ca_file: "/nonexistent/ca.pem") }
        .to raise_error(SessionBridge::ConfigurationError, /ssl_ca_file/)
    end
  end

  describe "secrets in output" do
    it "keeps tokens and payloads out of error messages and inspect output" do
      token = SessionBridge.publish(data)
      raw_redis.set("mySessionStore", "x") # every later command fails with WRONGTYPE

      [-> { SessionBridge.fetch(token) }, -> { SessionBridge.revoke(token) },
       -> { SessionBridge.publish(data) }].each do |call|
        expect(&call).to raise_error(SessionBridge::CommandError) do |error|
          expect(error.message).not_to include(token)
          expect(error.message).not_to include("payload-s3cret")
        end
      end
      expect(SessionBridge.configuration.inspect).not_to include(token)
      expect(SessionBridge.send(:client).inspect).not_to include(token)
    end
  end
end
