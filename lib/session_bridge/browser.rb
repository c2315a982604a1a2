# frozen_string_literal: true

require "digest"
require "action_dispatch"
require "active_support/notifications"

module SessionBridge
  # One browser's side of the bridge during a request: its token cookie, a note in its Rails
  # session of the token it was issued, and the Redis entry. The controller hooks and the Warden
  # hooks both act through it, and marks in the Rack env let the controller's path helpers skip
  # what a Warden hook already did, so one sign-in publishes once.
  #
  # Every publish, touch and revoke is an ActiveSupport::Notifications event
  # (publish.session_bridge, touch.session_bridge, revoke.session_bridge) whose payload holds
  # store_key, reason and outcome: never the token or the session data.
  class Browser
    # Rails session key of the note: { "token_digest" => ..., "scope" => ..., "refreshed_at" => ... }.
    SESSION_KEY = "session_bridge"
    SIGNED_IN = "session_bridge.signed_in"
    SIGNED_OUT = "session_bridge.signed_out"

    # The browser behind a Rack env, through the same cookie jar and session the controller uses.
    def self.from_env(env)
      request = ActionDispatch::Request.new(env)
      new(request.cookie_jar, request.session, env)
    end

    def initialize(cookies, session, env)
      @cookies = cookies
      @session = session
      @env = env
    end

    # Whether a sign-in was handled during this request.
    def signed_in?
      @env.key?(SIGNED_IN)
    end

    # Whether a sign-out was handled during this request.
    def signed_out?
      @env.key?(SIGNED_OUT)
    end

    # Whether Warden runs in this request, so that its hooks see every sign-in and sign-out.
    def warden?
      @env.key?("warden")
    end

    # Whether the cookie holds the token this browser's session was issued (a planted or stale
    # cookie does not).
    def holds_issued_token?
      !issued_note.nil?
    end

    # A sign-in of `user`: publishes a new token, sets the cookie and notes it in the session,
    # then revokes whatever token the cookie held before (an old one, or one planted by someone
    # else: it is never adopted). When the user's password was just changed, every other entry of
    # theirs goes first, as Devise signs their other sessions out. When Redis fails, the sign-in
    # goes on without a cookie.
    def signed_in(user, scope: nil)
      @env[SIGNED_IN] = true
      previous = token
      revoke_user(user) if password_changed?(user)
      issue(user, scope)
      revoke(previous, :rotation) if previous
    end

    # A sign-out of `scope` (nil: of the whole browser): deletes the cookie and the note, and
    # revokes the entry the cookie named, unless that token was issued to another scope, which
    # stays signed in. The cookie goes even when Redis fails.
    def signed_out(scope: nil)
      @env[SIGNED_OUT] = true
      owner = note && note["scope"]
      return if scope && owner && owner != scope.to_s

      previous = token
      forget
      revoke(previous, :sign_out) if previous
    end

    # A request of a signed-in user of `scope`: restarts the entry's lifetime once
    # refresh_interval has passed since the last restart (the time is kept in the session, so most
    # requests make no Redis call). A browser whose entry is gone (revoked elsewhere, or expired)
    # loses its cookie.
    def refresh(scope)
      interval = configuration.refresh_interval
      issued = issued_note
      return unless interval && issued && issued["scope"] == scope&.to_s
      return if now - issued["refreshed_at"].to_i < interval

      @session[SESSION_KEY] = issued.merge("refreshed_at" => now)
      live = instrument(:touch, :refresh) do |payload|
        SessionBridge.touch(token).tap { |touched| payload[:outcome] = touched ? :touched : :absent }
      end
      forget unless live
    rescue SessionBridge::Error => e
      SessionBridge.handle_error(e, :touch)
    end

    private

    def issue(user, scope)
      return refuse_insecure_request unless cookie_reaches_browser?

      data = configuration.session_data.call(user)
      token = instrument(:publish, :sign_in) do |payload|
        SessionBridge.publish(data, session_id: session_id, user_id: user_id(user))
                     .tap { payload[:outcome] = :published }
      end
      @cookies[configuration.cookie_name] = configuration.cookie_options.merge(value: token)
      @session[SESSION_KEY] = { "token_digest" => digest(token), "scope" => scope&.to_s, "refreshed_at" => now }
    rescue SessionBridge::Error => e
      forget # the token the cookie held must not outlive this sign-in
      SessionBridge.handle_error(e, :publish)
    end

    # Rails drops a Secure cookie from a response to a plain-HTTP request; an entry published
    # then would be reachable by no browser. The cookie jar's own rule decides (its private
    # write_cookie?, which also knows always_write_cookie).
    def cookie_reaches_browser?
      options = configuration.cookie_options
      return true unless options[:secure]
      return @cookies.send(:write_cookie?, options) if @cookies.respond_to?(:write_cookie?, true)

      ActionDispatch::Request.new(@env).ssl?
    end

    # Reported once per process, with the fix; every such sign-in goes on without a token.
    def refuse_insecure_request
      forget
      return if Browser.insecure_request_reported?

      SessionBridge.handle_error(InsecureRequestError.new(
        "nothing was published: the #{configuration.cookie_name} cookie is Secure, but this sign-in " \
        "came over plain HTTP, so the browser would never receive it. Serve the app over HTTPS " \
        "(config.force_ssl = true, or a proxy that sets X-Forwarded-Proto), or set " \
        "config.session_bridge.cookie_secure = false where plain HTTP is intended (reported once)"
      ), :publish)
    end

    @insecure_request_reported = false
    @report_lock = Mutex.new

    # True from the second call on.
    def self.insecure_request_reported?
      @report_lock.synchronize do
        reported = @insecure_request_reported
        @insecure_request_reported = true
        reported
      end
    end

    def revoke(token, reason)
      instrument(:revoke, reason) do |payload|
        payload[:outcome] = SessionBridge.revoke(token) ? :revoked : :absent
      end
    rescue SessionBridge::Error => e
      SessionBridge.handle_error(e, :revoke)
    end

    def revoke_user(user)
      id = user_id(user)
      return unless id

      instrument(:revoke, :password_change) do |payload|
        payload[:count] = SessionBridge.revoke_user(id)
        payload[:outcome] = :revoked
      end
    rescue SessionBridge::Error => e
      SessionBridge.handle_error(e, :revoke)
    end

    def forget
      @session.delete(SESSION_KEY)
      name = configuration.cookie_name
      @cookies.delete(name, configuration.cookie_options.slice(:path, :domain)) if @cookies.key?(name)
    end

    def instrument(operation, reason)
      payload = { store_key: configuration.store_key, reason: reason }
      ActiveSupport::Notifications.instrument("#{operation}.session_bridge", payload) do
        yield payload
      rescue SessionBridge::Error
        payload[:outcome] = :failed
        raise
      end
    end

    # Devise signs a user's other sessions out when the password changes (their authenticatable
    # salt no longer matches); a record saved with a new password during this request says so.
    def password_changed?(user)
      user.respond_to?(:saved_change_to_encrypted_password?) && user.saved_change_to_encrypted_password?
    end

    # The token cookie, unless the request carries the cookie name more than once with different
    # values: a sibling subdomain can toss a cookie of the same name beside ours (sent first when
    # its path is longer), and Rack would read the tossed one. Then there is no token.
    def token
      value = @cookies[configuration.cookie_name]
      value if value.is_a?(String) && !value.empty? && !tossed?(configuration.cookie_name)
    end

    def tossed?(name)
      header = @env["HTTP_COOKIE"]
      return false unless header.is_a?(String) && header.scan(name).size > 1

      values = header.split(/;\s*/).filter_map do |pair|
        key, value = pair.split("=", 2)
        value if key&.strip == name
      end
      values.uniq.size > 1
    end

    def note
      value = @session[SESSION_KEY]
      value if value.is_a?(Hash)
    end

    def issued_note
      current = token
      found = note
      found if current && found && found["token_digest"] == digest(current)
    end

    def digest(token)
      Digest::SHA256.hexdigest(token)
    end

    def user_id(user)
      id = user.respond_to?(:id) ? user.id : nil
      id if id.is_a?(Integer) || id.is_a?(String)
    end

    def session_id
      @session.respond_to?(:id) ? @session.id.to_s : ""
    end

    def now
      Time.now.to_i
    end

    def configuration
      SessionBridge.configuration
    end
  end
end
