# frozen_string_literal: true

# Fires after every sign-in that Warden keeps in the session: a password or remember-me strategy,
# and `sign_in` in app code or in Devise (sign-up, password reset). Publishes under a new token,
# revoking the one the browser held. Not on :fetch (the user read back from the session on later
# requests), nor with store: false (a token strategy keeps nothing in the session).
Warden::Manager.after_set_user except: :fetch do |record, warden, options|
  next if record.nil? || options[:store] == false

  SessionBridge::Browser.from_env(warden.env).signed_in(record, scope: options[:scope])
end
