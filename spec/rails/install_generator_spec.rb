# frozen_string_literal: true

require "rails_helper"
require "rails/generators"
require "tmpdir"

RSpec.describe "rails generate session_bridge:install" do
  around do |example|
    Dir.mktmpdir("session_bridge-generator-") do |dir|
      @app_root = dir
      example.run
    end
  end

  let(:initializer) { File.join(@app_root, "config", "initializers", "session_bridge.rb") }

  def generate
    out = StringIO.new
    original, $stdout = $stdout, out
    Rails::Generators.invoke("session_bridge:install", [], behavior: :invoke, destination_root: @app_root)
    out.string
  ensure
    $stdout = original
  end

  it "writes config/initializers/session_bridge.rb" do
    output = generate

    expect(output).to include("create  config/initializers/session_bridge.rb")
    expect(File.read(initializer)).to start_with("# frozen_string_literal: true\n")
  end

  it "documents every option, each commented line showing the real default" do
    generate
    text = File.read(initializer)

    (SessionBridge::Configuration::DEFAULTS.keys + %i[session_data logger]).each do |name|
      expect(text).to match(/^  # config\.#{name}\b/).or match(/^  config\.#{name}\b/)
    end
    documented = text.scan(/^  # config\.(\w+) = (.+)$/).to_h
    SessionBridge::Configuration::DEFAULTS.each do |name, default|
      next unless documented.key?(name.to_s)

      expect(eval(documented[name.to_s])).to eq(default), "config.#{name} documents #{documented[name.to_s]}"
    end
    expect(documented.keys).to include("store_key", "ttl", "refresh_interval", "on_error", "cookie_same_site")
  end

  it "writes an initializer that configures session_bridge as it stands" do
    generate

    load initializer

    expect(SessionBridge.configuration.store_key).to eq("dummySessions") # left as it was
    expect(SessionBridge.configuration.redis_url).to eq(ENV.fetch("REDIS_URL", "redis://127.0.0.1:6379/0"))
  end
end
