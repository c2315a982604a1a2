# frozen_string_literal: true

# Fires on every request of a signed-in user (Warden reading the user back from the session).
# With config.refresh_interval set, restarts the lifetime of the browser's entry at most once per
# interval (sliding expiry), so an active user's entry does not expire under them.
Warden::Manager.after_set_user only: :fetch do |record, warden, options|
  next if record.nil? || SessionBridge.configuration.refresh_interval.nil?

  SessionBridge::Browser.from_env(warden.env).refresh(options[:scope])
end
