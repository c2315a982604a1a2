# frozen_string_literal: true

module SessionBridge
  # Prepended to a controller by `include SessionBridge` (and to each of its subclasses as they
  # are defined). Wrapping the controller's after_sign_in_path_for / after_sign_out_path_for,
  # rather than being shadowed by them, keeps an app's own overrides working: session_bridge runs
  # first, then calls super, which reaches the app's method and finally Devise's. The app's
  # return value is what the action uses.
  #
  # In a Warden (Devise) app the Warden hooks in lib/session_bridge/hooks/ see every sign-in and
  # sign-out; these helpers only act when no hook did during the request (see each method), so a
  # sign-in never publishes twice. Without Warden they are the whole integration.
  module Controller
    # Prepends Controller to subclasses too, so an override in a subclass is wrapped as well.
    module Inheritance
      def inherited(subclass)
        super
        subclass.prepend(Controller)
      end
    end

    # Without Warden, this is the sign-in: publish. With Warden, a hook has already published for
    # any real sign-in; Devise also calls this when a signed-in user opens a sign-in page, which is
    # no sign-in, so it only issues a token to a browser that does not hold the one it was issued.
    def after_sign_in_path_for(resource)
      browser = session_bridge_browser
      unless browser.signed_in? || (browser.warden? && browser.holds_issued_token?)
        browser.signed_in(resource, scope: session_bridge_scope(resource))
      end
      super
    end

    # Revokes and deletes the cookie unless a Warden hook already did during this request.
    def after_sign_out_path_for(resource_or_scope)
      browser = session_bridge_browser
      browser.signed_out unless browser.signed_out?
      super
    end

    # Devise's bypass_sign_in (after a password change, or in app code) stores the user without
    # running Warden's callbacks, so the sign-in is handled here: a fresh token and, when the
    # password changed, none left for the user's other browsers.
    def bypass_sign_in(resource, scope: nil)
      return super if @session_bridge_bypassing # an outer wrapper (a superclass's prepend) acts

      begin
        @session_bridge_bypassing = true
        result = super
      ensure
        @session_bridge_bypassing = false
      end
      session_bridge_browser.signed_in(resource, scope: scope || session_bridge_scope(resource))
      result
    end

    private

    def session_bridge_browser
      env = request.respond_to?(:env) ? request.env : (@session_bridge_env ||= {})
      Browser.new(cookies, request.session, env)
    end

    # The Devise scope of a user (:user, :admin), or nil outside Devise.
    def session_bridge_scope(resource)
      return unless defined?(::Devise::Mapping)

      ::Devise::Mapping.find_scope!(resource)
    rescue RuntimeError # no Devise mapping for this object
      nil
    end
  end
end
