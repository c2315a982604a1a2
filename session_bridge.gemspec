# frozen_string_literal: true

require_relative "lib/session_bridge/version"

Gem::Specification.new do |spec|
  spec.name = "session_bridge"
  spec.version = SessionBridge::VERSION
  spec.authors = ["session_bridge developers"]
  spec.summary = "Share Devise sign-ins with Node.js (Socket.IO) through Redis, with a Rust core"
  spec.description = <<~TEXT
    On sign-in, session_bridge mints an unguessable token, sets it in an HttpOnly cookie and writes a
    JSON copy of chosen session data to Redis (HSET mySessionStore <token> <json>); on sign-out it
    deletes it. A Node.js server reads the cookie and looks the session up. The token minting, JSON
    encoding and Redis I/O run in one native call (Rust, magnus) without holding the GVL.
  TEXT
  spec.license = "MIT"
  spec.required_ruby_version = ">= 3.0"

  spec.files = Dir.chdir(__dir__) do
    if File.exist?(".git") && system("git", "rev-parse", out: File::NULL, err: File::NULL)
      `git ls-files -z`.split("\x0")
    else
      Dir["{lib,ext}/**/*", "Cargo.toml", "Cargo.lock", "README.md", "LICENSE"]
    end.select do |path|
      path.start_with?("lib/", "ext/") || %w[Cargo.toml Cargo.lock README.md LICENSE].include?(path)
    end.reject { |path| path.end_with?(".so", ".bundle") }
  end
  spec.require_paths = ["lib"]
  spec.extensions = ["ext/session_bridge/extconf.rb"]

  spec.add_development_dependency "rake", ">= 13.0"
  spec.add_development_dependency "rspec", "~> 3.12"
  spec.add_development_dependency "redis", "~> 4.8"
  spec.add_development_dependency "actionpack", "~> 6.1"
  # The Rails + Devise app under spec/dummy (spec/rails/): every one a Debian package.
  spec.add_development_dependency "actionmailer", "~> 6.1"
  spec.add_development_dependency "activerecord", "~> 6.1"
  spec.add_development_dependency "devise", "~> 4.8"
  spec.add_development_dependency "railties", "~> 6.1"
  spec.add_development_dependency "sqlite3", "~> 1.4"
end
