# frozen_string_literal: true

require "rails/railtie"

module SessionBridge
  # Rails integration. `config.session_bridge.<option> = value` (config/application.rb or an
  # environment file) is applied through SessionBridge.configure before config/initializers run,
  # so an initializer can add to it; the Warden hooks are installed once Devise has loaded Warden.
  class Railtie < ::Rails::Railtie
    config.session_bridge = ActiveSupport::OrderedOptions.new

    initializer "session_bridge.configure", before: :load_config_initializers do |app|
      Railtie.apply(app.config.session_bridge)
    end

    initializer "session_bridge.warden_hooks" do
      SessionBridge.install_warden_hooks
    end

    # Applies a set of option => value through SessionBridge.configure (nothing when empty).
    # Raises ConfigurationError for an unknown option or a bad value.
    def self.apply(options)
      return if options.empty?

      SessionBridge.configure do |config|
        options.each do |name, value|
          setter = :"#{name}="
          unless Configuration.public_method_defined?(setter)
            raise ConfigurationError, "config.session_bridge.#{name} is not a session_bridge option"
          end

          config.public_send(setter, value)
        end
      end
    end
  end
end
