# frozen_string_literal: true

require "logger"
require "rack/test"
require "stringio"
require_relative "../../examples/demo_app"

RSpec.describe "include SessionBridge in a controller" do
  include Rack::Test::Methods

  def app
    DemoApp
  end

  def token_cookie
    last_response.headers["Set-Cookie"].to_s.split("\n").find { |c| c.start_with?("_validation_token_key=") }
  end

  it "publishes on sign-in and sets an HttpOnly, SameSite=Lax cookie" do
    post "/sign_in", id: 42, email: "ada@example.com"

    expect(last_response.status).to eq(302)
    expect(last_response.location).to end_with("/dashboard")
    cookie = token_cookie
    token = cookie[/\A_validation_token_key=([0-9a-f]{32});/, 1]
    expect(cookie).to include("path=/").and include("HttpOnly").and match(/SameSite=Lax/i)
    expect(cookie).not_to include("secure")
    expect(JSON.parse(raw_redis.hget("mySessionStore", token))).to eq("user_id" => 42)
  end

  it "publishes what session_data returns" do
    SessionBridge.configure { |c| c.session_data { |u| { "user_id" => u.id, "username" => u.email } } }

    post "/sign_in", id: 7, email: "grace@example.com"

    token = rack_mock_session.cookie_jar["_validation_token_key"]
    expect(SessionBridge.fetch(token)).to eq("user_id" => 7, "username" => "grace@example.com")
  end

  it "revokes on sign-out and deletes the cookie" do
    post "/sign_in"
    token = rack_mock_session.cookie_jar["_validation_token_key"]

    delete "/sign_out"

    expect(last_response.location).to end_with("/")
    expect(token_cookie).to match(/\A_validation_token_key=;.*max-age=0/i)
    expect(raw_redis.hexists("mySessionStore", token)).to be(false)
    expect(rack_mock_session.cookie_jar["_validation_token_key"]).to be_nil.or eq("")
  end

  it "marks the cookie Secure when configured" do
    configure_bridge(cookie_secure: true)

    post "https://example.org/sign_in"

    expect(token_cookie).to include("secure")
  end

  context "when Redis is down" do
    let(:log) { StringIO.new }

    def break_redis(**settings)
      configure_bridge(redis_url: "redis://127.0.0.1:#{closed_port}/0", connect_timeout: 0.2,
                       logger: Logger.new(log), **settings)
    end

    it "signs in without a cookie and logs the error without the payload" do
      break_redis
      SessionBridge.configure { |c| c.session_data { |u| { "user_id" => u.id, "secret" => "s3cret-payload" } } }

      post "/sign_in"

      expect(last_response.status).to eq(302)
      expect(token_cookie).to be_nil
      expect(log.string).to include("[session_bridge] publish failed: SessionBridge::CannotConnectError")
      expect(log.string).not_to include("s3cret-payload")
    end

    it "signs out, deletes the cookie and logs the error without the token" do
      post "/sign_in"
      token = rack_mock_session.cookie_jar["_validation_token_key"]
      break_redis

      delete "/sign_out"

      expect(last_response.status).to eq(302)
      expect(token_cookie).to match(/max-age=0/i)
      expect(log.string).to include("revoke failed: SessionBridge::CannotConnectError")
      expect(log.string).not_to include(token)
    end

    it "raises instead with on_error: :raise" do
      break_redis(on_error: :raise)

      expect { post "/sign_in" }.to raise_error(SessionBridge::CannotConnectError)
    end

    it "hands the error to an on_error callable" do
      seen = []
      break_redis(on_error: ->(error, operation) { seen << [error.class, operation] })

      post "/sign_in"

      expect(seen).to eq([[SessionBridge::CannotConnectError, :publish]])
    end
  end

  describe "an app's own after_sign_in_path_for" do
    def sign_in_through(controller_class)
      instance = controller_class.new
      cookies = {}
      instance.define_singleton_method(:cookies) { cookies }
      instance.define_singleton_method(:request) { Struct.new(:session).new({}) }
      path = instance.after_sign_in_path_for(DemoUser.new(3, "x"))
      [path, cookies, instance]
    end

    it "keeps working in the controller that includes SessionBridge, and publishes once" do
      controller = Class.new(ActionController::Base) do
        include DemoAuth
        include SessionBridge

        def after_sign_in_path_for(user)
          "/welcome/#{user.id}"
        end
      end

      path, cookies, instance = sign_in_through(controller)

      expect(path).to eq("/welcome/3")
      expect(SessionBridge.fetch(cookies["_validation_token_key"][:value])).to eq("user_id" => 3)
      expect { instance.after_sign_in_path_for(DemoUser.new(3, "x")) }.not_to(change { raw_redis.hlen("mySessionStore") })
    end

    it "keeps working in a subclass, whether or not it calls super, and publishes once" do
      plain = Class.new(DemoApplicationController) { def after_sign_in_path_for(user) = "/sub/#{user.id}" }
      calling_super = Class.new(DemoApplicationController) { def after_sign_in_path_for(user) = "#{super}?u=#{user.id}" }

      expect(sign_in_through(plain).first).to eq("/sub/3")
      expect(raw_redis.hlen("mySessionStore")).to eq(1)
      expect(sign_in_through(calling_super).first).to eq("/dashboard?u=3")
      expect(raw_redis.hlen("mySessionStore")).to eq(2)
    end
  end
end
