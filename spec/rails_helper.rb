# frozen_string_literal: true

# Boots the Rails 6.1 + Devise 4.8 app under spec/dummy, with a fresh sqlite database under
# spec/dummy/tmp. Required only by the specs in spec/rails/, so the other specs, run alone, never
# load Rails; run together, the app's settings apply only to examples under spec/rails/.
ENV["RAILS_ENV"] = "test"
require "fileutils"
require "stringio"
dummy_tmp = File.expand_path("dummy/tmp", __dir__)
FileUtils.mkdir_p(dummy_tmp)
FileUtils.rm_f(Dir[File.join(dummy_tmp, "test.sqlite3*")])

require_relative "dummy/config/environment"
require "active_support/testing/time_helpers"
require "rack/test"
require_relative "rails/support/devise_app_helpers"

ActiveRecord::Schema.verbose = false
load Rails.root.join("db", "schema.rb").to_s

# The settings in force once the app booted. Back to the defaults for whichever example runs
# first (spec_helper resets them after every example, never before the first).
SESSION_BRIDGE_AT_BOOT = SessionBridge.configuration
SessionBridge.reset_configuration!

RSpec.configure do |config|
  config.define_derived_metadata(file_path: %r{/spec/rails/}) { |metadata| metadata[:rails] = true }
  config.include ActiveSupport::Testing::TimeHelpers, rails: true
  config.include DeviseAppHelpers, rails: true

  # spec_helper has already pointed SessionBridge at the suite's redis-server; apply the app's own
  # settings on top, as its boot did: the Railtie's config.session_bridge, then its initializer.
  config.before(:each, rails: true) do
    SessionBridge::Railtie.apply(Rails.application.config.session_bridge)
    load Rails.root.join("config", "initializers", "session_bridge.rb").to_s
    User.delete_all
    Admin.delete_all
    ActionMailer::Base.deliveries.clear
  end
  config.after(:each, rails: true) { travel_back }
end
