# frozen_string_literal: true

module SessionBridge
  # Prepended to a controller by `include SessionBridge` (and to each of its subclasses as they
  # are defined). Wrapping the controller's after_sign_in_path_for / after_sign_out_path_for,
  # rather than being shadowed by them, keeps an app's own overrides working: session_bridge runs
  # first, then calls super, which reaches the app's method and finally Devise's. The app's
  # return value is what the action uses. Each runs at most once per request.
  module Controller
    # Prepends Controller to subclasses too, so an override in a subclass is wrapped as well.
    module Inheritance
      def inherited(subclass)
        super
        subclass.prepend(Controller)
      end
    end

    def after_sign_in_path_for(resource)
      unless @session_bridge_signed_in
        @session_bridge_signed_in = true
        session_bridge_sign_in(resource)
      end
      super
    end

    def after_sign_out_path_for(resource_or_scope)
      unless @session_bridge_signed_out
        @session_bridge_signed_out = true
        session_bridge_sign_out
      end
      super
    end

    private

    # Publishes the user's session data and sets the token cookie. When Redis fails, the sign-in
    # goes on without a cookie and the error goes to on_error.
    def session_bridge_sign_in(user)
      config = SessionBridge.configuration
      token = SessionBridge.publish(config.session_data.call(user), session_id: session_bridge_session_id,
                                                                    user_id: user.respond_to?(:id) ? user.id : nil)
      cookies[config.cookie_name] = config.cookie_options.merge(value: token)
    rescue SessionBridge::Error => e
      SessionBridge.handle_error(e, :publish)
    end

    # Revokes the entry named by the cookie, and deletes the cookie even when Redis fails.
    def session_bridge_sign_out
      config = SessionBridge.configuration
      token = cookies[config.cookie_name]
      cookies.delete(config.cookie_name, config.cookie_options.slice(:path, :domain))
      SessionBridge.revoke(token) if token
    rescue SessionBridge::Error => e
      SessionBridge.handle_error(e, :revoke)
    end

    def session_bridge_session_id
      session = request.session
      session.respond_to?(:id) ? session.id.to_s : ""
    end
  end
end
