# frozen_string_literal: true

module SessionBridge
  # Prepended to a controller by `include SessionBridge`. Wrapping (rather than being shadowed by)
  # the controller's own after_sign_in_path_for / after_sign_out_path_for means an app's overrides
  # keep working: session_bridge runs first, then calls super, which reaches the app's method (if
  # it defines one in the same controller) and then Devise's. The app's return value is kept.
  module Controller
    def after_sign_in_path_for(resource)
      session_bridge_sign_in(resource)
      super
    end

    def after_sign_out_path_for(resource_or_scope)
      session_bridge_sign_out
      super
    end

    private

    def session_bridge_sign_in(user)
      config = SessionBridge.configuration
      data = config.session_data.call(user)
      token = SessionBridge.publish(data, session_id: session_bridge_session_id)
      cookies[config.cookie_name] = config.cookie_options.merge(value: token)
    end

    # Revokes the entry named by the cookie; the cookie goes even when Redis cannot be reached.
    def session_bridge_sign_out
      config = SessionBridge.configuration
      token = cookies[config.cookie_name]
      SessionBridge.revoke(token) if token
    ensure
      cookies.delete(config.cookie_name, config.cookie_options.slice(:path, :domain)) if config
    end

    def session_bridge_session_id
      request.session.respond_to?(:id) ? request.session.id.to_s : ""
    end
  end
end
