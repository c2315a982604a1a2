# frozen_string_literal: true

# Fires before Warden signs a scope out, once per scope: Devise's sign_out and
# sign_out_all_scopes, a timeoutable expiry, the sign-out after a failed CSRF check. Revokes the
# browser's token and deletes its cookie. Under :null_session a failed CSRF check signs out a
# stand-in session that is never saved: the real one stays signed in, and keeps its token.
Warden::Manager.before_logout do |_record, warden, options|
  next if warden.env[Rack::RACK_SESSION_OPTIONS]&.[](:skip)

  SessionBridge::Browser.from_env(warden.env).signed_out(scope: options[:scope])
end
