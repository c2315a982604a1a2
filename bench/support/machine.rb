# frozen_string_literal: true

require "etc"
require "json"
require "time"

module Bench
  # What the figures were measured on, printed above them: they mean little without it.
  module Machine
    module_function

    def details(redis_version:, redis_benchmark_version:)
      {
        "Date" => Time.now.utc.iso8601,
        "CPU" => "#{cpu_model} (#{Etc.nprocessors} cores available)",
        "Kernel" => "#{Etc.uname[:sysname]} #{Etc.uname[:release]}",
        "Ruby" => RUBY_DESCRIPTION,
        "Redis" => "redis-server #{redis_version}, redis-benchmark #{redis_benchmark_version}, loopback TCP",
        "session_bridge" => "#{SessionBridge::VERSION} (#{git_commit})",
        "Ruby alternatives" => "redis-rb #{Redis::VERSION}, hiredis #{hiredis_version}, json #{JSON::VERSION}"
      }
    end

    def cpu_model
      File.foreach("/proc/cpuinfo") { |line| return line.split(":", 2).last.strip if line.start_with?("model name") }
      "unknown"
    rescue SystemCallError
      "unknown"
    end

    def git_commit
      root = File.expand_path("../..", __dir__)
      commit = `git -C #{root} rev-parse --short HEAD 2>/dev/null`.strip
      dirty = `git -C #{root} status --porcelain -- ext lib 2>/dev/null`.strip
      return "not a git checkout" if commit.empty?

      dirty.empty? ? "commit #{commit}" : "commit #{commit} with uncommitted changes to ext/ or lib/"
    end

    def hiredis_version
      defined?(::Hiredis::VERSION) ? ::Hiredis::VERSION : "not installed"
    end
  end
end
