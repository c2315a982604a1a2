# frozen_string_literal: true

require "rails"
require "active_record/railtie"
require "action_controller/railtie"
require "action_mailer/railtie"
require "action_view/railtie"
require "devise"
require "session_bridge"
# spec_helper loads session_bridge before Rails; in an app Bundler.require loads it after Rails,
# and session_bridge.rb requires its Railtie itself.
require "session_bridge/railtie"

module Dummy
  # A Rails 6.1 + Devise 4.8 app for spec/rails/: Devise's own controllers and views, sqlite.
  class Application < Rails::Application
    config.load_defaults 6.1
    config.root = File.expand_path("..", __dir__)
    config.eager_load = false
    config.cache_classes = true
    config.secret_key_base = "session-bridge-dummy-app-secret-key-base-for-tests-only"
    config.logger = ActiveSupport::Logger.new(File.join(config.root, "tmp", "test.log"))
    config.log_level = :info
    config.active_support.deprecation = :silence
    config.hosts.clear
    config.action_dispatch.show_exceptions = false
    config.action_controller.allow_forgery_protection = false # spec/rails/csrf_spec.rb turns it on
    config.action_mailer.delivery_method = :test
    config.action_mailer.default_url_options = { host: "example.org" }

    # Applied by SessionBridge::Railtie before config/initializers/session_bridge.rb runs.
    config.session_bridge.store_key = "dummySessions"
  end
end
