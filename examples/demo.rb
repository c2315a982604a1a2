# frozen_string_literal: true

# Signs a demo user in and out through SessionBridge's controller hooks in a minimal Rack app,
# against a real Redis: REDIS_URL if set, otherwise a redis-server started here on a free port.
$LOAD_PATH.unshift(File.expand_path("../lib", __dir__))
require "json"
require "rack/test"
require "redis"
require_relative "../spec/support/redis_server"
require_relative "demo_app"

server = ENV["REDIS_URL"] ? nil : RedisServer.start
redis_url = ENV.fetch("REDIS_URL") { server.url }

begin
  SessionBridge.configure do |config|
    config.redis_url = redis_url
    config.session_data { |user| { "user_id" => user.id, "username" => user.email } }
  end
  store_key = SessionBridge.configuration.store_key
  cookie_name = SessionBridge.configuration.cookie_name
  redis = Redis.new(url: redis_url)
  browser = Rack::Test::Session.new(Rack::MockSession.new(DemoApp))

  puts "Redis: #{server ? "embedded redis-server on port #{server.port}" : 'REDIS_URL'}"
  puts
  puts "== Sign in (POST /sign_in as user 42, ada@example.com)"
  browser.post("/sign_in", id: 42, email: "ada@example.com")
  set_cookie = browser.last_response.headers["Set-Cookie"].split("\n").grep(/\A#{cookie_name}=/).first
  token = browser.cookie_jar[cookie_name]
  puts "HTTP #{browser.last_response.status} -> #{browser.last_response.location}"
  puts "Set-Cookie: #{set_cookie}"
  puts
  puts "== What Rails wrote"
  puts "HGET #{store_key} #{token}"
  puts "  => #{redis.hget(store_key, token).inspect}"
  puts
  puts "== The lookup a Node.js server makes on the websocket handshake"
  puts "cookie #{cookie_name} = #{token}"
  stored = redis.hget(store_key, token)
  puts "HGET #{store_key} <cookie>, then JSON.parse"
  puts "  => #{stored ? JSON.parse(stored).inspect : 'nil'}  (#{stored ? 'accepted' : 'rejected'})"
  puts
  puts "== Sign out (DELETE /sign_out)"
  browser.delete("/sign_out")
  set_cookie = browser.last_response.headers["Set-Cookie"].split("\n").grep(/\A#{cookie_name}=/).first
  puts "HTTP #{browser.last_response.status} -> #{browser.last_response.location}"
  puts "Set-Cookie: #{set_cookie}"
  gone = redis.hget(store_key, token)
  puts "HGET #{store_key} #{token}"
  puts "  => #{gone.inspect}  (#{gone.nil? ? 'entry gone: Node.js now rejects this cookie' : 'STILL PRESENT'})"
  exit(gone.nil? && stored ? 0 : 1)
ensure
  redis&.close
  server&.cleanup
end
