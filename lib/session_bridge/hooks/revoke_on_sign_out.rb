# frozen_string_literal: true

# Fires before Warden signs a scope out, once per scope: Devise's sign_out and
# sign_out_all_scopes, a timeoutable expiry, the sign-out after a failed CSRF check. Revokes the
# browser's token and deletes its cookie. (Under :null_session a failed CSRF check signs out a
# stand-in session with an empty cookie jar: the real session, and its token, stay.)
Warden::Manager.before_logout do |_record, warden, options|
  SessionBridge::Browser.from_env(warden.env).signed_out(scope: options[:scope])
end
