# frozen_string_literal: true

# Shows the whole bridge: signs a demo user in through SessionBridge's controller hooks (a minimal
# Rack app, as a Devise app's ApplicationController does), connects a real Socket.IO client to the
# README's Node.js server (run as the README prints it, with the companion in clients/node), signs
# out, and shows the live socket dropped and the old cookie refused. Redis: REDIS_URL if set,
# otherwise a redis-server started here on a free port. Every process started here is stopped.
$LOAD_PATH.unshift(File.expand_path("../lib", __dir__))
require "fileutils"
require "json"
require "open3"
require "rack/test"
require "redis"
require "timeout"
require "tmpdir"
require_relative "../spec/support/redis_server"
require_relative "demo_app"

ROOT = File.expand_path("..", __dir__)
COMPANION = File.join(ROOT, "clients/node")

# The first code block after `marker` in the README: the Node.js server exactly as users copy it.
def readme_snippet(marker)
  readme = File.read(File.join(ROOT, "README.md"))
  readme[readme.index(marker)..][/```[a-z]*\n(.*?)```/m, 1] or abort "README.md has no code block after #{marker}"
end

# A Node.js project as a user would have it: server.js, with session-bridge and socket.io installed.
def node_project(dir)
  FileUtils.mkdir_p(File.join(dir, "node_modules"))
  File.symlink(COMPANION, File.join(dir, "node_modules", "session-bridge"))
  %w[socket.io socket.io-client].each do |package|
    File.symlink(File.join(COMPANION, "node_modules", package), File.join(dir, "node_modules", package))
  end
  File.write(File.join(dir, "server.js"), readme_snippet("A complete server (`server.js`):"))
  FileUtils.cp(File.join(__dir__, "demo_client.js"), dir)
end

# Runs the Socket.IO client with `cookie`; returns its stdout and process.
def connect_client(dir, port, cookie)
  stdin, stdout, waiter = Open3.popen2("node", "demo_client.js", "http://127.0.0.1:#{port}", cookie, chdir: dir)
  stdin.close
  [stdout, waiter]
end

def next_event(stdout, seconds = 5)
  line = Timeout.timeout(seconds) { stdout.gets } or abort "the Socket.IO client stopped without a word"
  JSON.parse(line)
end

def now = Process.clock_gettime(Process::CLOCK_MONOTONIC)

server = ENV["REDIS_URL"] ? nil : RedisServer.start
redis_url = ENV.fetch("REDIS_URL") { server.url }
node_dir = Dir.mktmpdir("session_bridge-demo-")
clients = []
ok = false

begin
  SessionBridge.configure do |config|
    config.redis_url = redis_url
    config.session_data { |user| { "user_id" => user.id, "username" => user.email } }
  end
  store_key = SessionBridge.configuration.store_key
  cookie_name = SessionBridge.configuration.cookie_name
  redis = Redis.new(url: redis_url)
  browser = Rack::Test::Session.new(Rack::MockSession.new(DemoApp))

  node_project(node_dir)
  node_in, node_out, node = Open3.popen2({ "REDIS_URL" => redis_url, "PORT" => "0" }, "node", "server.js", chdir: node_dir)
  node_in.close
  port = Timeout.timeout(10) { node_out.gets.to_s[/listening on (\d+)/, 1] } or abort "the Node.js server did not start"

  puts "Redis: #{server ? "embedded redis-server on port #{server.port}" : 'REDIS_URL'}"
  puts "Node.js: the README's server.js (session-bridge + Socket.IO 4) on port #{port}"
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
  puts "== A Socket.IO client connects to Node.js with the cookie"
  stdout, waiter = connect_client(node_dir, port, "#{cookie_name}=#{token}")
  clients << waiter
  hello = next_event(stdout)
  puts "Node.js says: hello #{hello['session']&.fetch('username', nil) || hello.inspect}  (session #{JSON.generate(hello['session'])})"
  puts
  puts "== Sign out (DELETE /sign_out)"
  signed_out_at = now
  browser.delete("/sign_out")
  set_cookie = browser.last_response.headers["Set-Cookie"].split("\n").grep(/\A#{cookie_name}=/).first
  puts "HTTP #{browser.last_response.status} -> #{browser.last_response.location}"
  puts "Set-Cookie: #{set_cookie}"
  dropped = next_event(stdout)
  puts "the live socket: #{dropped['event']} (#{dropped['reason']}) #{((now - signed_out_at) * 1000).round} ms after the sign-out request began"
  puts
  puts "== The old cookie again"
  stdout, waiter = connect_client(node_dir, port, "#{cookie_name}=#{token}")
  clients << waiter
  again = next_event(stdout)
  puts "Node.js: #{again['event']} (#{again['message']})"
  puts "HGET #{store_key} #{token}  => #{redis.hget(store_key, token).inspect}"
  ok = hello["event"] == "hello" && dropped["event"] == "disconnected" && again["event"] == "refused"
ensure
  clients.each { |waiter| Process.kill("KILL", waiter.pid) if waiter.alive? }
  if node&.alive?
    Process.kill("TERM", node.pid)
    Process.kill("KILL", node.pid) unless node.join(5)
  end
  redis&.close
  server&.cleanup
  FileUtils.rm_rf(node_dir)
end
exit(ok ? 0 : 1)
