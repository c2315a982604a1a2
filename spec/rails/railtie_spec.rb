# frozen_string_literal: true

require "rails_helper"

RSpec.describe SessionBridge::Railtie do
  it "applied config.session_bridge before the app's initializer, which added to it" do
    expect(Rails.application.config.session_bridge.store_key).to eq("dummySessions")
    expect(SESSION_BRIDGE_AT_BOOT.store_key).to eq("dummySessions")
    expect(SESSION_BRIDGE_AT_BOOT.session_data.call(Struct.new(:id, :email).new(7, "a@example.org")))
      .to eq("user_id" => 7, "email" => "a@example.org")
  end

  it "applies options through SessionBridge.configure" do
    described_class.apply(ActiveSupport::OrderedOptions[refresh_interval: 60, cookie_same_site: :strict])

    expect(SessionBridge.configuration.refresh_interval).to eq(60)
    expect(SessionBridge.configuration.cookie_same_site).to eq(:strict)
  end

  it "rejects an unknown option, naming it, and keeps the settings in force" do
    expect { described_class.apply(ActiveSupport::OrderedOptions[store_kee: "x"]) }
      .to raise_error(SessionBridge::ConfigurationError, "config.session_bridge.store_kee is not a session_bridge option")
    expect { described_class.apply(ActiveSupport::OrderedOptions[ttl: -1]) }
      .to raise_error(SessionBridge::ConfigurationError, /ttl/)
    expect(SessionBridge.configuration.store_key).to eq("dummySessions")
  end

  it "installed the Warden hooks" do
    expect(SessionBridge.install_warden_hooks).to be(true)
    hooks = Warden::Manager._after_set_user.map { |callback, _| callback.source_location.first }
    expect(hooks).to include(end_with("session_bridge/hooks/publish_on_sign_in.rb"),
                             end_with("session_bridge/hooks/refresh_on_request.rb"))
    expect(Warden::Manager._before_logout.map { |callback, _| callback.source_location.first })
      .to include(end_with("session_bridge/hooks/revoke_on_sign_out.rb"))
  end
end
