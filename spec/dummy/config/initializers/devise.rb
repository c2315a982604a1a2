# frozen_string_literal: true

Devise.setup do |config|
  require "devise/orm/active_record"

  config.mailer_sender = "accounts@example.org"
  config.stretches = 1
  config.timeout_in = 30.minutes
  config.reset_password_within = 6.hours
end
