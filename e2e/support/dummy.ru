# frozen_string_literal: true

# spec/dummy for Puma, as browser.test.js runs it: a fresh sqlite database at E2E_DATABASE with one
# user (E2E_EMAIL, E2E_PASSWORD), forgery protection on as in a real app, the gem from this checkout
# pointed at REDIS_URL by its default configuration.
ENV["RAILS_ENV"] = "test"
$LOAD_PATH.unshift(File.expand_path("../../lib", __dir__))
require "fileutils"
FileUtils.mkdir_p(File.expand_path("../../spec/dummy/tmp", __dir__)) # the app's log lives there

require_relative "../../spec/dummy/config/environment"

ActiveRecord::Base.establish_connection(adapter: "sqlite3", database: ENV.fetch("E2E_DATABASE"))
ActiveRecord::Schema.verbose = false
load Rails.root.join("db", "schema.rb").to_s
User.create!(email: ENV.fetch("E2E_EMAIL"), password: ENV.fetch("E2E_PASSWORD"))
ActionController::Base.allow_forgery_protection = true

run Rails.application
